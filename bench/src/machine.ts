import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, freemem, homedir, totalmem, loadavg, release, hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { ServiceBuild } from '@seqrec/testing';

export const RESULTS_DIR = join(__dirname, '..', 'results');

/** What every benchmark result records about the machine it ran on. */
export function machineInfo(): Record<string, unknown> {
  const c = cpus();
  return {
    host: hostname(),
    cpuModel: c[0]?.model ?? 'unknown',
    cores: c.length,
    memGiB: +(totalmem() / 2 ** 30).toFixed(1),
    freeMemGiB: +(freemem() / 2 ** 30).toFixed(1),
    loadAvgAtStart: loadavg().map((l) => +l.toFixed(2)),
    kernel: release(),
    node: process.version,
    java: safe(() => execFileSync('java', ['-version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim() || 'see stderr'),
  };
}

function safe(f: () => string): string {
  try {
    return f();
  } catch (err) {
    const e = err as { stderr?: Buffer | string };
    return e.stderr ? String(e.stderr).split('\n')[0]! : 'unknown';
  }
}

/**
 * Where the measured services come from: BENCH_APPS_ROOT, the root of another checkout whose
 * `apps/<app>/dist` is built (a before/after comparison runs an old build beside this one), else
 * this checkout. `startService`'s last argument.
 */
export function serviceBuild(): ServiceBuild {
  const root = process.env.BENCH_APPS_ROOT;
  return root ? { root } : {};
}

/** The commit of the measured services' checkout, for the result. */
export function serviceCommit(): string {
  const root = serviceBuild().root ?? join(__dirname, '..', '..');
  return safe(() => execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim());
}

/** The file name a benchmark writes under bench/results: BENCH_RESULT_NAME (trial runs) or its own. */
export function resultName(name: string): string {
  return process.env.BENCH_RESULT_NAME || name;
}

export function writeResult(name: string, result: unknown): string {
  const file = join(RESULTS_DIR, `${resultName(name)}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

/** CPU seconds (user + system) a process has used so far, from /proc; undefined when it is gone. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / 100;
  } catch {
    return undefined;
  }
}

/** Resident set size of a process (from /proc), 0 when it is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** A process and all its descendants (from /proc), the process first. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited meanwhile
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]!) ?? []));
  return out;
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The project's cache root, as scripts/infra.sh resolves it ($SEQREC_CACHE, default ~/.cache/seqrec). */
export function seqrecCache(): string {
  return process.env.SEQREC_CACHE ?? join(homedir(), '.cache', 'seqrec');
}

/** Where scripts/infra.sh keeps the pid files of the Kafka broker and Redis it started. */
export function infraPids(): { kafka: number | undefined; redis: number | undefined } {
  const run = process.env.SEQREC_RUN ?? join(seqrecCache(), 'run');
  return { kafka: readPid(join(run, 'kafka', 'kafka.pid')), redis: readPid(join(run, 'redis', 'redis.pid')) };
}

/**
 * Starts measuring the CPU time of named processes; the returned function gives, per process, the
 * CPU seconds used since and the mean number of cores that is over the wall time (null for a
 * process that was not found): where a run's CPU went, on a machine every part shares.
 */
export function cpuMeter(pids: Record<string, number | number[] | undefined>): () => Record<string, { cpuSeconds: number; cores: number } | null> {
  const t0 = performance.now();
  // A list of pids (a process and its workers) counts as one: the sum of their CPU time.
  const read = (p: number | number[] | undefined): number | undefined => {
    if (p === undefined) return undefined;
    const all = (Array.isArray(p) ? p : [p]).map(cpuSeconds);
    return all.some((v) => v === undefined) ? undefined : all.reduce((a, b) => a! + b!, 0);
  };
  const start = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, read(p)]));
  return () => {
    const wall = (performance.now() - t0) / 1000;
    return Object.fromEntries(
      Object.entries(pids).map(([k, p]) => {
        const a = start[k];
        const b = read(p);
        if (a === undefined || b === undefined) return [k, null];
        return [k, { cpuSeconds: +(b - a).toFixed(2), cores: +((b - a) / wall).toFixed(3) }];
      }),
    );
  };
}

/** A numeric setting from the environment, `dflt` when unset. */
export const envNumber = (name: string, dflt: number): number => Number(process.env[name] ?? dflt);

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/**
 * glibc serves every allocation above 32 MB with a fresh mmap, so each [positions × items] softmax
 * buffer (~230 MB on ML-1M) is page-faulted in and unmapped again on every step. Raising the mmap and
 * trim thresholds keeps those buffers in the heap: ML-1M SASRec-CE epochs 44 s → 40 s, same losses
 * (jemalloc was slower: 77 s). The caller's own settings win.
 */
export const TRAINER_MALLOC = { MALLOC_MMAP_THRESHOLD_: '4294967296', MALLOC_TRIM_THRESHOLD_: '4294967296' };

