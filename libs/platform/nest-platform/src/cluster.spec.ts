import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { freePort } from '@seqrec/testing';
import { cgroupCpuLimit, parseWorkers } from './cluster';

const FIXTURE = join(__dirname, 'testing', 'cluster.fixture.js');

/** GET over a fresh connection (no keep-alive), so the primary hands each request to the next worker. */
function fetchText(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    // A connection handed to a worker at the moment it died is never answered: give up on it.
    req.setTimeout(3_000, () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
  });
}

interface Started {
  child: ChildProcess;
  port: number;
  metricsPort: number;
  output: () => string;
  exited: Promise<number | null>;
}

const started: Started[] = [];

async function start(env: Record<string, string>): Promise<Started> {
  const port = await freePort();
  const metricsPort = await freePort();
  const child = spawn(process.execPath, [FIXTURE], {
    env: { ...process.env, FIXTURE_PORT: String(port), FIXTURE_METRICS_PORT: String(metricsPort), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const s = { child, port, metricsPort, output: () => out, exited };
  started.push(s);
  return s;
}

/** Answers of `n` requests on fresh connections, once the service answers at all (10 s at most). */
async function answers(s: Started, n: number): Promise<Array<{ slot: string; pid: number; instance?: string }>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const out: Array<{ slot: string; pid: number; instance?: string }> = [];
      for (let i = 0; i < n; i++) out.push(JSON.parse((await fetchText(s.port, '/')).body) as { slot: string; pid: number; instance?: string });
      return out;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`no answer: ${(err as Error).message}\n${s.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

afterEach(() => {
  for (const s of started.splice(0)) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
});

describe('cluster supervisor', () => {
  it('parses the worker count, naming the variable when it is wrong', () => {
    assert.equal(parseWorkers('SCORER_WORKERS', undefined), 1);
    assert.equal(parseWorkers('SCORER_WORKERS', ''), 1);
    assert.equal(parseWorkers('SCORER_WORKERS', '3'), 3);
    assert.ok(parseWorkers('SCORER_WORKERS', 'auto') >= 1 && parseWorkers('SCORER_WORKERS', 'auto') <= Math.max(1, cpus().length));
    // auto: the cores it may use, capped by the cgroup's CPU limit (v2 cpu.max or v1 quota/period), rounded down.
    const cg = mkdtempSync(join(tmpdir(), 'cgroup-'));
    try {
      const cores = availableParallelism();
      writeFileSync(join(cg, 'cpu.max'), 'max 100000\n');
      assert.equal(cgroupCpuLimit(cg), null);
      assert.equal(parseWorkers('SCORER_WORKERS', 'auto', cg), cores);
      writeFileSync(join(cg, 'cpu.max'), '150000 100000\n');
      assert.equal(cgroupCpuLimit(cg), 1.5);
      assert.equal(parseWorkers('SCORER_WORKERS', 'auto', cg), 1, 'a limit of 1.5 cores runs one worker');
      writeFileSync(join(cg, 'cpu.max'), '50000 100000\n');
      assert.equal(parseWorkers('SCORER_WORKERS', 'auto', cg), 1, 'at least one');
      writeFileSync(join(cg, 'cpu.max'), `${100000 * (cores + 4)} 100000\n`);
      assert.equal(parseWorkers('SCORER_WORKERS', 'auto', cg), cores, 'never more than the cores it may run on');
      rmSync(join(cg, 'cpu.max'));
      mkdirSync(join(cg, 'cpu'));
      writeFileSync(join(cg, 'cpu', 'cpu.cfs_quota_us'), '200000\n');
      writeFileSync(join(cg, 'cpu', 'cpu.cfs_period_us'), '100000\n');
      assert.equal(cgroupCpuLimit(cg), 2);
      writeFileSync(join(cg, 'cpu', 'cpu.cfs_quota_us'), '-1\n');
      assert.equal(cgroupCpuLimit(cg), null);
    } finally {
      rmSync(cg, { recursive: true, force: true });
    }
    for (const bad of ['0', '-1', '1.5', 'two', '1000']) {
      assert.throws(() => parseWorkers('SCORER_WORKERS', bad), new RegExp(`SCORER_WORKERS must be a positive integer or auto, got "${bad}"`));
    }
  });

  it('runs N workers on one port, serves every worker\'s metrics from any of them, replaces a dead worker and stops them all on SIGTERM', async () => {
    const s = await start({ FIXTURE_WORKERS: '2', INSTANCE_ID: 'pod-a' });
    // Workers start one after the other: the first to listen takes every connection meanwhile.
    let first: Array<{ slot: string; pid: number; instance?: string }> = [];
    for (const until = Date.now() + 10_000; Date.now() < until; ) {
      first = await answers(s, 20);
      if (new Set(first.map((a) => a.slot)).size === 2) break;
    }
    const slots = new Set(first.map((a) => a.slot));
    assert.deepEqual([...slots].sort(), ['0', '1'], 'both workers answer');
    assert.ok(first.every((a) => a.pid !== s.child.pid), 'the primary serves no requests');
    // Each worker is its own instance (per-instance consumer groups must not be shared).
    assert.ok(first.every((a) => a.instance === `pod-a-w${a.slot}`), JSON.stringify(first));

    // Any worker's /metrics (on the metrics port, shared by the workers like the API port) carries
    // both workers' series, whichever worker takes the scrape.
    for (let i = 0; i < 4; i++) {
      const m = await fetchText(s.metricsPort, '/metrics');
      assert.equal(m.status, 200);
      for (const slot of ['0', '1']) {
        assert.match(m.body, new RegExp(`fixture_requests_total\\{service="fixture",worker="${slot}"\\} \\d+`), `scrape ${i} has worker ${slot}`);
      }
      const total = [...m.body.matchAll(/fixture_requests_total\{[^}]*\} (\d+)/g)].reduce((a, x) => a + Number(x[1]), 0);
      assert.ok(total >= 20, `the counters add up to the requests served (${total})`);
    }

    // A worker dies: the other keeps answering, and the slot is refilled by a new process.
    const victim = first.find((a) => a.slot === '0')!;
    for (let i = 0; i < 50; i++) {
      const r = await fetchText(s.port, '/crash/0').catch(() => null); // null: the connection died with the worker
      if (!r) break;
      assert.equal(r.status, 409);
    }
    const deadline = Date.now() + 10_000;
    let after: Array<{ slot: string; pid: number; instance?: string }> = [];
    while (Date.now() < deadline) {
      after = await answers(s, 10);
      if (after.some((a) => a.slot === '0' && a.pid !== victim.pid)) break;
    }
    assert.ok(after.some((a) => a.slot === '0' && a.pid !== victim.pid), `slot 0 was restarted\n${s.output()}`);
    assert.equal(alive(victim.pid) && victim.pid !== first.find((a) => a.slot === '1')!.pid, false, 'the dead worker is gone');
    assert.match(s.output(), /worker 0 \(pid \d+\) died \(code 3\): restarting it/);

    const pids = new Set((await answers(s, 10)).map((a) => a.pid));
    s.child.kill('SIGTERM');
    assert.equal(await within(s.exited, 10_000, 'shutdown'), 0, s.output());
    for (const pid of pids) assert.equal(alive(pid), false, `worker ${pid} exited`);
  });

  it('stops with the worker\'s code when a worker dies before it ever served (a bad configuration)', async () => {
    const s = await start({ FIXTURE_WORKERS: '2', FIXTURE_FAIL_START: '7' });
    assert.equal(await within(s.exited, 10_000, 'exit'), 7, s.output());
    assert.match(s.output(), /worker \d exited \(code 7\) before it served: stopping/);
  });

  it('stops with 1 when a worker keeps dying (a crash loop is for the orchestrator to see)', async () => {
    const s = await start({ FIXTURE_WORKERS: '2', FIXTURE_CRASH_AFTER_LISTEN: '1', FIXTURE_MAX_RESTARTS: '2' });
    assert.equal(await within(s.exited, 15_000, 'exit'), 1, s.output());
    assert.match(s.output(), /worker \d died 3 times in 60 s \(last: code 4\): stopping/);
  });

  it('with one worker runs the service in the process itself, with no primary and no worker label', async () => {
    const s = await start({ FIXTURE_WORKERS: '1' });
    const [a] = await answers(s, 1);
    assert.deepEqual(a, { slot: 'single', pid: s.child.pid });
    const m = await fetchText(s.metricsPort, '/metrics');
    assert.match(m.body, /fixture_requests_total\{service="fixture"\} 1/);
    s.child.kill('SIGTERM');
    assert.equal(await within(s.exited, 10_000, 'shutdown'), 0);
  });
});
