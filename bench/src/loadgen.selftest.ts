/**
 * node bench/dist/loadgen.selftest.js [RATES] [SECONDS] — how fast the open-loop generator itself
 * can go on this machine: a no-delay node:http server in a child process (so the server does not
 * share the generator's event loop, as the scorer in bench:score does not), then `openLoop` at
 * each rate (default 3000,5000) for SECONDS (default 3). Prints per rate the achieved rate,
 * latency percentiles, how far sends lagged behind the schedule, and the generator's CPU time per
 * request, after a 1 s warm-up at 500 rps. Not a benchmark of anything but the generator; not run
 * by the tests.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { openLoop } from './loadgen';

const SERVER = `
const http = require('node:http');
const server = http.createServer((req, res) => { req.resume(); res.end('{"ok":true}'); });
server.keepAliveTimeout = 30000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

async function main(): Promise<void> {
  const rates = (process.argv[2] ?? '3000,5000').split(',').map(Number);
  const seconds = Number(process.argv[3] ?? 3);
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
    const url = `http://127.0.0.1:${Number(String(chunk).trim())}`;
    // Warm-up (JIT, sockets), as bench:score does before its steps.
    await openLoop({ url, rate: 500, seconds: 1, path: () => '/' });
    for (const rate of rates) {
      const cpu0 = process.cpuUsage();
      const res = await openLoop({ url, rate, seconds, path: () => '/v1/users/u1/recommendations?k=20' });
      const cpu = process.cpuUsage(cpu0);
      const cpuUsPerRequest = (cpu.user + cpu.system) / Math.max(1, res.sent);
      console.log(
        JSON.stringify({
          rate,
          asked: res.asked,
          sent: res.sent,
          dropped: res.dropped,
          errors: res.errors,
          achievedRps: res.achievedRps,
          latencyMs: res.latency,
          serviceMs: res.serviceLatency,
          sendLagMs: res.sendLagMs,
          generatorCpuUsPerRequest: Math.round(cpuUsPerRequest),
          generatorCpuCores: +((cpu.user + cpu.system) / 1e6 / res.durationSeconds).toFixed(2),
        }),
      );
    }
  } finally {
    child.kill();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
