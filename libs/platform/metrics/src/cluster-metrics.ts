import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { loadEnv, str } from '@seqrec/config';

/**
 * Metrics of a service running as several worker processes (node:cluster, e.g. SCORER_WORKERS):
 * - each worker labels its series `worker="<slot>"` (0..N-1, stable across restarts, so a
 *   restarted worker's counters read as a reset of the same series, which `rate()` handles);
 * - a scrape of `/metrics` (on METRICS_PORT, which the workers share like the API port) may land on
 *   any worker: that worker asks the primary, which collects every ready worker's registry and
 *   answers the union, so one scrape sees the whole process.
 */

/** Environment variable carrying a worker's slot (set by the supervisor at fork). */
export const WORKER_SLOT_ENV = 'SEQREC_WORKER_SLOT';

const READY = 'seqrec:metrics-ready';
const COLLECT = 'seqrec:metrics-collect';
const PART = 'seqrec:metrics-part';
const REQUEST = 'seqrec:metrics-request';
const RESPONSE = 'seqrec:metrics-response';

interface Message {
  type?: string;
  id?: number;
  json?: unknown[];
  text?: string;
  error?: string;
}

/** This process's worker slot when it runs under the supervisor, else undefined. */
export function workerSlot(): string | undefined {
  return cluster.isWorker ? loadEnv({ [WORKER_SLOT_ENV]: str({ default: undefined }) })[WORKER_SLOT_ENV] : undefined;
}

/** Extra default labels of a worker's registry: `{worker: slot}` under the supervisor, else none. */
export function workerLabels(): Record<string, string> {
  const slot = workerSlot();
  return slot === undefined ? {} : { worker: slot };
}

/**
 * In a worker: answer the primary's collection requests with this registry's metrics, and tell it
 * this worker can be collected from. Does nothing outside a cluster worker.
 */
export function serveWorkerMetrics(registry: Registry): void {
  if (!cluster.isWorker || !process.send) return;
  process.on('message', (m: Message) => {
    if (m?.type !== COLLECT) return;
    registry.getMetricsAsJSON().then(
      (json) => process.send?.({ type: PART, id: m.id, json }),
      (err: Error) => process.send?.({ type: PART, id: m.id, error: err.message }),
    );
  });
  process.send({ type: READY });
}

let nextRequest = 0;
const waiting = new Map<number, { resolve: (text: string) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();
let listening = false;

/**
 * The exposition text for a scrape: this registry's own, or, in a cluster worker, every worker's
 * (asked of the primary; rejects after `timeoutMs`).
 */
export function metricsText(registry: Registry, timeoutMs = 5_000): Promise<string> {
  if (!cluster.isWorker || !process.send) return registry.metrics();
  if (!listening) {
    listening = true;
    process.on('message', (m: Message) => {
      if (m?.type !== RESPONSE || m.id === undefined) return;
      const w = waiting.get(m.id);
      if (!w) return;
      waiting.delete(m.id);
      clearTimeout(w.timer);
      if (m.error !== undefined) w.reject(new Error(m.error));
      else w.resolve(m.text ?? '');
    });
  }
  const id = nextRequest++;
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error(`the cluster primary did not answer a metrics request within ${timeoutMs} ms`));
    }, timeoutMs);
    waiting.set(id, { resolve, reject, timer });
    process.send!({ type: REQUEST, id });
  });
}

/**
 * In the primary: serve the workers' scrape requests with the union of every ready worker's
 * metrics. A worker that does not answer within `partTimeoutMs` (busy, or dying) is left out of
 * that scrape rather than failing it. Returns a function that stops serving.
 */
export function aggregateWorkerMetrics(partTimeoutMs = 2_000): () => void {
  const ready = new Set<Worker>();
  let nextCollect = 0;
  const onMessage = (worker: Worker, m: Message) => {
    if (m?.type === READY) {
      ready.add(worker);
    } else if (m?.type === REQUEST && m.id !== undefined) {
      const requestId = m.id;
      collect().then(
        (text) => worker.isConnected() && worker.send({ type: RESPONSE, id: requestId, text }),
        (err: Error) => worker.isConnected() && worker.send({ type: RESPONSE, id: requestId, error: err.message }),
      );
    }
  };
  const onExit = (worker: Worker) => ready.delete(worker);

  const collect = (): Promise<string> => {
    const id = nextCollect++;
    const targets = [...ready].filter((w) => w.isConnected());
    const parts: unknown[][] = [];
    return new Promise<string>((resolve, reject) => {
      let pending = targets.length;
      const finish = () => {
        cluster.off('message', onPart);
        clearTimeout(timer);
        try {
          // Every worker's series carry their own `worker` label: the union, whatever each
          // metric's own cluster aggregator (some omit, some take the first) would do.
          const union = parts.map((p) => p.map((metric) => ({ ...(metric as object), aggregator: 'sum' })));
          resolve(AggregatorRegistry.aggregate(union as never).metrics());
        } catch (err) {
          reject(err as Error);
        }
      };
      const onPart = (_w: Worker, m: Message) => {
        if (m?.type !== PART || m.id !== id) return;
        if (m.json) parts.push(m.json);
        if (--pending === 0) finish();
      };
      const timer = setTimeout(finish, partTimeoutMs);
      cluster.on('message', onPart);
      if (pending === 0) return finish();
      for (const w of targets) w.send({ type: COLLECT, id });
    });
  };

  cluster.on('message', onMessage);
  cluster.on('exit', onExit);
  return () => {
    cluster.off('message', onMessage);
    cluster.off('exit', onExit);
  };
}
