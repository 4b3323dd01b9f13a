/**
 * A coordinator cache for kafkajs.
 *
 * kafkajs 2.2 (its last release) asks the cluster which broker coordinates a transactional id or a
 * consumer group every time it needs one: a FindCoordinator round trip before AddPartitionsToTxn,
 * before AddOffsetsToTxn, before TxnOffsetCommit and before EndTxn. That is four of the nine
 * requests of every transaction the exactly-once ingester runs, each waited for in turn, and a
 * share of the broker's CPU. The Java client looks a coordinator up once and again only after an
 * error that says it moved; this does the same for kafkajs.
 *
 * `installCoordinatorCache` wraps `Cluster.prototype.findGroupCoordinator`: a lookup is answered
 * from the cluster object's own cache while it is younger than `ttlMs`, and the broker handed out is
 * a proxy that drops the cache entry when a call on it fails with NOT_COORDINATOR or
 * COORDINATOR_NOT_AVAILABLE, or with anything that is not a broker's answer (a closed connection,
 * a timeout). kafkajs' own retries then look the coordinator up afresh, as they do without the
 * cache. Other protocol errors (CONCURRENT_TRANSACTIONS above all: the previous transaction's
 * markers still being written) come from the right coordinator and keep the entry.
 */

/** The part of a kafkajs cluster this wraps. */
export interface CoordinatorLookup {
  findGroupCoordinator(args: { groupId: string; coordinatorType?: number }): Promise<object>;
}

interface CacheEntry {
  broker: object;
  at: number;
}

const CACHE = Symbol('seqrec.coordinatorCache');
const INSTALLED = Symbol('seqrec.coordinatorCacheInstalled');

/**
 * Wraps `proto.findGroupCoordinator` (kafkajs' `Cluster.prototype` by default) with the cache.
 * Idempotent per prototype; returns false when the method is missing (a kafkajs this was not written
 * for), leaving it untouched.
 */
export function installCoordinatorCache(proto: CoordinatorLookup = kafkajsClusterPrototype(), ttlMs = 30_000, now: () => number = Date.now): boolean {
  const target = proto as CoordinatorLookup & { [INSTALLED]?: boolean };
  if (target[INSTALLED]) return true;
  const original = target.findGroupCoordinator;
  if (typeof original !== 'function') return false;
  target.findGroupCoordinator = async function (this: { [CACHE]?: Map<string, CacheEntry> }, args) {
    const cache = (this[CACHE] ??= new Map());
    const key = `${args.coordinatorType ?? 0}:${args.groupId}`;
    const hit = cache.get(key);
    if (hit && now() - hit.at < ttlMs) return hit.broker;
    const broker = await original.call(this, args);
    const entry: CacheEntry = {
      broker: invalidatingProxy(broker, () => {
        if (cache.get(key) !== entry) return;
        cache.delete(key);
      }),
      at: now(),
    };
    cache.set(key, entry);
    return entry.broker;
  };
  target[INSTALLED] = true;
  return true;
}

/** Kafka error codes that say the coordinator is elsewhere (or not yet anywhere). */
const MOVED = new Set([15 /* COORDINATOR_NOT_AVAILABLE */, 16 /* NOT_COORDINATOR */]);

/** Whether a failed call means the cached coordinator may be wrong. */
export function coordinatorMayHaveMoved(err: unknown): boolean {
  const e = err as { type?: unknown; code?: unknown } | null;
  // kafkajs raises a broker's error answer as a KafkaJSProtocolError (or a subclass) with the
  // answer's numeric code and its type name; anything else did not come from the coordinator.
  if (typeof e?.code === 'number' && typeof e.type === 'string') return MOVED.has(e.code);
  return true;
}

/** The broker, whose method calls drop its cache entry when they fail because the coordinator may have moved. */
function invalidatingProxy(broker: object, invalidate: () => void): object {
  const wrapped = new Map<PropertyKey, (...args: unknown[]) => unknown>();
  return new Proxy(broker, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      let fn = wrapped.get(prop);
      if (!fn) {
        fn = (...args: unknown[]) => {
          let result: unknown;
          try {
            result = (value as (...a: unknown[]) => unknown).apply(target, args);
          } catch (err) {
            if (coordinatorMayHaveMoved(err)) invalidate();
            throw err;
          }
          if (result instanceof Promise) {
            return result.catch((err: unknown) => {
              if (coordinatorMayHaveMoved(err)) invalidate();
              throw err;
            });
          }
          return result;
        };
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
}

function kafkajsClusterPrototype(): CoordinatorLookup {
  // kafkajs has no "exports" map; its Cluster class is not part of the public API, hence the check
  // in installCoordinatorCache.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Cluster = require('kafkajs/src/cluster') as { prototype: CoordinatorLookup };
  return Cluster.prototype;
}
