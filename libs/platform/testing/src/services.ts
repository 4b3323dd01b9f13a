import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { connect, createServer as createNetServer } from 'node:net';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..', '..');
/** Where service processes log (one file per process). */
export const LOG_DIR = process.env.SEQREC_TEST_LOG_DIR ?? join(ROOT, 'test', 'logs');

export interface RunningService {
  name: string;
  port: number;
  url: string;
  /** METRICS_PORT: `/metrics` is served there only (not on `url`). */
  metricsPort: number;
  /** `http://127.0.0.1:<metricsPort>/metrics`, or `<url>/metrics` for a build that predates METRICS_PORT */
  metricsUrl: string;
  proc: ChildProcess;
  /** The file its stdout and stderr go to. */
  logPath: string;
  /** SIGTERM, then wait for the exit (SIGKILL after `graceMs`); resolves to the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

let nextPort = 18_100 + Math.floor(Math.random() * 500);

/** Where a service's build comes from. */
export interface ServiceBuild {
  /**
   * Root of the checkout whose `apps/<app>/dist/main.js` runs (default: this one), e.g. a worktree
   * of an older commit built elsewhere, so a benchmark runs an old build beside the current one.
   */
  root?: string;
}

/**
 * Starts `apps/<app>/dist/main.js` as its own process and waits until `/health/ready` answers 200.
 * INSTANCE_ID is `<app>-<port>` unless `env` names one (a restart under the same name, like a
 * StatefulSet's pod).
 */
export async function startService(
  app: string,
  env: Record<string, string>,
  readyTimeoutMs = 30_000,
  /** Extra `node` flags, e.g. `--cpu-prof` (not allowed in NODE_OPTIONS). */
  nodeArgs: string[] = [],
  build: ServiceBuild = {},
): Promise<RunningService> {
  const port = nextPort++;
  const metricsPort = env.METRICS_PORT ? Number(env.METRICS_PORT) : nextPort++;
  mkdirSync(LOG_DIR, { recursive: true });
  const logPath = join(LOG_DIR, `${app}-${port}.log`);
  const log = createWriteStream(logPath);
  // The Redis a spec names replaces the test run's (npm test exports both REDIS_URL and
  // REDIS_CLUSTER_NODES; a service given both refuses to start).
  const inherited = { ...process.env };
  if ('REDIS_URL' in env || 'REDIS_CLUSTER_NODES' in env) for (const k of ['REDIS_URL', 'REDIS_CLUSTER_NODES']) delete inherited[k];
  const proc = spawn(process.execPath, [...nodeArgs, join(build.root ?? ROOT, 'apps', app, 'dist', 'main.js')], {
    env: { ...inherited, ...env, HTTP_PORT: String(port), METRICS_PORT: String(metricsPort), HTTP_HOST: '127.0.0.1', INSTANCE_ID: env.INSTANCE_ID || `${app}-${port}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.pipe(log, { end: false });
  proc.stderr!.pipe(log, { end: false });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + readyTimeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${app} exited with ${proc.exitCode} during start-up; see ${LOG_DIR}`);
    try {
      const res = await fetch(`${url}/health/ready`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) {
      proc.kill('SIGKILL');
      throw new Error(`${app} not ready after ${readyTimeoutMs} ms; see ${LOG_DIR}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name: app,
    port,
    url,
    metricsPort,
    metricsUrl: (await listening(metricsPort)) ? `http://127.0.0.1:${metricsPort}/metrics` : `${url}/metrics`,
    proc,
    logPath,
    stop: async (graceMs = 15_000) => {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/**
 * Whether something accepts connections on 127.0.0.1:`port`. A build from before METRICS_PORT (an
 * older checkout run by a before/after benchmark) serves /metrics on its HTTP port instead.
 */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A redis-server of a test's own (never the shared one): to pause, stop, or misconfigure freely. */
export interface PrivateRedis {
  port: number;
  url: string;
  proc: ChildProcess;
  /** SIGSTOP: the server keeps its connections and answers nothing (a hung Redis). */
  pause(): void;
  /** SIGCONT */
  resume(): void;
  stop(): Promise<void>;
}

/**
 * Starts `redis-server` (on PATH, as `scripts/infra.sh` installs it) on a free port, without
 * persistence, and waits until it answers PING.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await new Promise<number>((resolve, reject) => {
    const srv = createNetServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
  mkdirSync(LOG_DIR, { recursive: true });
  const log = createWriteStream(join(LOG_DIR, `redis-${port}.log`));
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.pipe(log, { end: false });
  proc.stderr!.pipe(log, { end: false });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const until = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}; see ${LOG_DIR}/redis-${port}.log`);
    if (await pingRedis(port)) break;
    if (Date.now() > until) throw new Error(`redis-server on ${port} did not answer PING`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    proc,
    pause: () => void proc.kill('SIGSTOP'),
    resume: () => void proc.kill('SIGCONT'),
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGCONT');
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** One raw `PING` to a Redis on 127.0.0.1:`port` (no client library): true when it answers PONG within 500 ms. */
export function pingRedis(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write('PING\r\n'));
    s.setTimeout(500, () => s.destroy());
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    s.once('error', () => resolve(false));
    s.once('close', () => resolve(false));
  });
}

/**
 * The last lines of each service's log (start-up chatter left out), for a failure message: a CI
 * run's log files do not survive it, and ports (hence log files) are reused by later specs.
 */
export function logTails(services: ReadonlyArray<Pick<RunningService, 'name' | 'logPath'>>, linesPerService = 40): string {
  // start-up chatter, and librdkafka's periodic group lines (assignment dumps, heartbeats, the lag readings' offset fetches)
  const noise = /FastifyWarning|--trace-warnings|\[TopicCheck\]|routes are open| (DUMP\w*|HEARTBEAT|OFFSET|CGRPOP): |^\s*$/;
  return services
    .map((s) => {
      let lines: string[];
      try {
        lines = readFileSync(s.logPath, 'utf8').split('\n').filter((l) => !noise.test(l));
      } catch (err) {
        lines = [`(cannot read: ${(err as Error).message})`];
      }
      const tail = lines.slice(-linesPerService).map((l) => `    ${l.replace(/^\[Nest\] \d+\s+-\s+/, '').slice(0, 400)}`);
      return [`  ${s.name} (${s.logPath}, ${lines.length} lines; the last ${tail.length}):`, ...tail].join('\n');
    })
    .join('\n');
}
