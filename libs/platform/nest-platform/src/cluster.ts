import cluster, { type Worker } from 'node:cluster';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { commonEnv, loadEnv, str } from '@seqrec/config';
import { aggregateWorkerMetrics, WORKER_SLOT_ENV } from '@seqrec/metrics';

/**
 * One HTTP service on several cores: a supervising primary process forks N workers (node:cluster)
 * that share the listening port, each a whole service (its own model, Redis and Kafka clients,
 * event loop). The primary does no request work; it:
 * - restarts a worker that dies after it was serving (the others keep answering meanwhile), but
 *   stops everything when one slot dies more than `maxRestarts` times in `restartWindowMs` (a crash
 *   loop is for the orchestrator to see), or when a worker dies before it ever listened (a bad
 *   configuration: every worker would fail the same way);
 * - forwards SIGTERM/SIGINT to every worker, which drains as a single process does, and exits 0
 *   when all exited cleanly (1 otherwise, or when they outlast `shutdownTimeoutMs`);
 * - serves the workers' /metrics scrapes with every worker's series (see cluster-metrics).
 */

export interface SuperviseOptions {
  service: string;
  workers: number;
  /** INSTANCE_ID of the service: worker `n` gets `<instanceId>-w<n>`. Empty: the workers keep the default (host name + pid). */
  instanceId?: string;
  /** How long workers get to drain after SIGTERM before they are killed. Default 30 s. */
  shutdownTimeoutMs?: number;
  /** Restarts of one slot allowed within `restartWindowMs` before the service stops. Default 5. */
  maxRestarts?: number;
  /** Default 60 s. */
  restartWindowMs?: number;
  /** Delay before a dead worker is replaced. Default 500 ms. */
  restartDelayMs?: number;
  log?: Pick<Console, 'log' | 'error'>;
}

/**
 * The CPU limit of this process's cgroup in cores (cgroup v2 `cpu.max`, or v1
 * `cpu.cfs_quota_us / cpu.cfs_period_us`), null when there is none: a container's CPU limit, which
 * the core count the OS reports does not show.
 */
export function cgroupCpuLimit(root = '/sys/fs/cgroup'): number | null {
  const read = (path: string): string | null => {
    try {
      return readFileSync(join(root, path), 'utf8').trim();
    } catch {
      return null;
    }
  };
  const v2 = read('cpu.max');
  if (v2 !== null) {
    const [quota, period] = v2.split(/\s+/);
    const q = Number(quota);
    const p = Number(period);
    return quota !== 'max' && q > 0 && p > 0 ? q / p : null;
  }
  const q = Number(read('cpu/cpu.cfs_quota_us') ?? read('cpu,cpuacct/cpu.cfs_quota_us'));
  const p = Number(read('cpu/cpu.cfs_period_us') ?? read('cpu,cpuacct/cpu.cfs_period_us'));
  return q > 0 && p > 0 ? q / p : null;
}

/**
 * Worker count from a setting: a positive integer, or `auto` = the whole cores this process may
 * use: the cores it may run on, capped by its cgroup's CPU limit rounded down (a worker on a
 * fraction of a core would be throttled), at least 1. Throws a RangeError naming `name` otherwise.
 */
export function parseWorkers(name: string, raw: string | undefined, cgroupRoot?: string): number {
  const v = (raw ?? '').trim();
  if (v === '') return 1;
  if (v === 'auto') {
    const limit = cgroupCpuLimit(cgroupRoot);
    return Math.max(1, Math.min(availableParallelism(), limit === null ? Infinity : Math.floor(limit)));
  }
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new RangeError(`${name} must be a positive integer or auto, got "${raw}"`);
  return n;
}

/** Runs the primary until every worker is gone; resolves with the exit code the process should use. */
export function superviseWorkers(options: SuperviseOptions): Promise<number> {
  if (!cluster.isPrimary) throw new Error('superviseWorkers must run in the cluster primary');
  const log = options.log ?? console;
  const tag = `[${options.service} primary ${process.pid}]`;
  const maxRestarts = options.maxRestarts ?? 5;
  const windowMs = options.restartWindowMs ?? 60_000;
  const restartDelayMs = options.restartDelayMs ?? 500;
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 30_000;
  const slots = new Map<Worker, number>();
  const listened = new Set<Worker>();
  const restarts: number[][] = Array.from({ length: options.workers }, () => []);
  const stopMetrics = aggregateWorkerMetrics();
  let stopping = false;
  let exitCode = 0;

  return new Promise<number>((resolve) => {
    const fork = (slot: number) => {
      // Each worker is its own instance: its own per-instance consumer groups (every worker must see
      // every model announcement) and Kafka client ids.
      const instance = options.instanceId ? { INSTANCE_ID: `${options.instanceId}-w${slot}` } : {};
      const w = cluster.fork({ [WORKER_SLOT_ENV]: String(slot), ...instance });
      slots.set(w, slot);
    };

    const finishIfDone = () => {
      if (!stopping || slots.size > 0) return;
      stopMetrics();
      cluster.off('exit', onExit);
      cluster.off('listening', onListening);
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      clearTimeout(killTimer);
      resolve(exitCode);
    };

    let killTimer: NodeJS.Timeout | undefined;
    const stop = (why: string, code: number) => {
      if (code !== 0 && exitCode === 0) exitCode = code;
      if (stopping) return;
      stopping = true;
      log.log(`${tag} ${why}: stopping ${slots.size} worker(s)`);
      for (const w of slots.keys()) if (!w.isDead()) w.process.kill('SIGTERM');
      killTimer = setTimeout(() => {
        log.error(`${tag} workers still running ${shutdownTimeoutMs} ms after SIGTERM: killing them`);
        exitCode = 1;
        for (const w of slots.keys()) if (!w.isDead()) w.process.kill('SIGKILL');
      }, shutdownTimeoutMs);
      killTimer.unref();
      finishIfDone();
    };

    const onListening = (w: Worker) => {
      if (!listened.has(w)) log.log(`${tag} worker ${slots.get(w)} (pid ${w.process.pid}) is serving`);
      listened.add(w);
    };

    const onExit = (w: Worker, code: number | null, signal: string | null) => {
      const slot = slots.get(w);
      if (slot === undefined) return;
      slots.delete(w);
      const how = signal ? `signal ${signal}` : `code ${code}`;
      if (stopping) {
        // Ended by the SIGTERM we sent (a worker still starting has no handler yet) is a clean stop;
        // anything else is a failure (the first failure's code is kept).
        if (code !== 0 && signal !== 'SIGTERM' && exitCode === 0) exitCode = 1;
        finishIfDone();
        return;
      }
      if (!listened.has(w)) {
        // Dead before it ever served: configuration or start-up failure, the same for every worker.
        stop(`worker ${slot} exited (${how}) before it served`, code || 1);
        return;
      }
      listened.delete(w);
      const now = Date.now();
      const recent = restarts[slot]!.filter((t) => now - t < windowMs);
      recent.push(now);
      restarts[slot] = recent;
      if (recent.length > maxRestarts) {
        stop(`worker ${slot} died ${recent.length} times in ${windowMs / 1000} s (last: ${how})`, 1);
        return;
      }
      log.error(`${tag} worker ${slot} (pid ${w.process.pid}) died (${how}): restarting it`);
      setTimeout(() => {
        if (!stopping) fork(slot);
      }, restartDelayMs);
    };

    const onTerm = () => stop('SIGTERM', 0);
    const onInt = () => stop('SIGINT', 0);
    cluster.on('exit', onExit);
    cluster.on('listening', onListening);
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    log.log(`${tag} starting ${options.workers} workers`);
    for (let slot = 0; slot < options.workers; slot++) fork(slot);
  });
}

/**
 * Entry point of a service that may run as several workers: with `workers` > 1 in the primary,
 * supervises (never loading the service itself) and exits with the supervisor's code; otherwise
 * (one worker, or inside a worker) runs `start`.
 */
export async function runClustered(
  options: Omit<SuperviseOptions, 'workers' | 'instanceId'> & { workersVariable: string },
  start: () => Promise<unknown>,
): Promise<void> {
  let workers: number;
  let env: { INSTANCE_ID: string; SHUTDOWN_TIMEOUT_MS: number };
  try {
    const loaded = loadEnv({ INSTANCE_ID: commonEnv.INSTANCE_ID, SHUTDOWN_TIMEOUT_MS: commonEnv.SHUTDOWN_TIMEOUT_MS, [options.workersVariable]: str({ default: '' }) });
    env = loaded;
    workers = parseWorkers(options.workersVariable, loaded[options.workersVariable] as string);
  } catch (err) {
    (options.log ?? console).error(`[${options.service}] ${(err as Error).message}`);
    process.exit(1);
  }
  if (workers > 1 && cluster.isPrimary) {
    // Workers give up draining at SHUTDOWN_TIMEOUT_MS themselves; the primary kills what is left 1 s later.
    const shutdownTimeoutMs = options.shutdownTimeoutMs ?? env.SHUTDOWN_TIMEOUT_MS + 1_000;
    process.exit(await superviseWorkers({ ...options, workers, instanceId: env.INSTANCE_ID, shutdownTimeoutMs }));
  }
  await start();
}
