import { EnvError, bool, consoleEnv, num, positiveWhole, str, whole, type CleanedEnv } from '@seqrec/config';
import { backendEnv } from '@seqrec/model';
import { modelStoreEnv, servedModelEnv } from '@seqrec/model-store';
import { DEFAULT_NEW_ITEM_BOOST } from './content-items';
import { parseEventTypes, type RuleDefaults } from './rules';

/** `SCORER_INDEX_LISTS=auto` builds an index for models of at least this many items (below, exact top-k costs little). */
export const AUTO_INDEX_MIN_ITEMS = 20_000;

/** The scorer's variables (validated at start-up with the common ones). */
export const scoringEnv = {
  ...backendEnv,
  ...modelStoreEnv,
  ...servedModelEnv,
  ...consoleEnv,
  SCORER_MAX_BATCH: num({ default: 64, desc: 'most requests scored in one forward pass' }),
  SCORER_MAX_WAIT_MS: num({ default: 1, desc: 'longest an idle scorer waits for companions of a request before scoring (0: next tick)' }),
  SCORER_MAX_QUEUE: num({ default: 512, desc: 'requests waiting for a forward pass before new ones are shed with 429' }),
  SCORER_MAX_QUEUE_WAIT_MS: num({
    default: 500,
    desc: 'longest a request waits for scoring: older ones are shed with 429, and new ones while the oldest waiting has waited longer (0: no limit)',
  }),
  SCORER_MAX_EVENT_LOOP_DELAY_MS: num({
    default: 200,
    desc: 'answer API requests with 503 + Retry-After while the largest event-loop lag of the last 100 ms is above this: the process itself is saturated (0: off)',
  }),
  SCORER_MAX_CANDIDATES: num({ default: 1_000, desc: 'most candidate items per rank request' }),
  SCORER_MAX_K: num({ default: 200, desc: 'largest k of recommendations and similar items' }),
  SCORER_MAX_BATCH_USERS: num({ default: 100, desc: 'most users per batch request' }),
  SCORER_SEARCH_BLEND_WEIGHT: num({
    default: 0.5,
    desc: "share of the personal score when a rank request carries a search engine's scores or positions (0: the engine's order, 1: the personal score); fit it on your own search sessions (fitBlendWeight, as bench:search does); a request may replace it",
  }),
  SCORER_NEW_ITEM_BOOST: num({
    default: DEFAULT_NEW_ITEM_BOOST,
    desc: "how hard catalogue items the model has not seen compete, scored from their content: 0, the content vector's raw dot product (shrunk toward the mean item, it seldom reaches a full-catalogue top 10); 1, standardised per user to the model's own items' score distribution; between, a mix (docs/coldstart.md: what each costs the model's own ranking)",
  }),
  SCORER_TRENDING_CACHE_MS: whole({ default: 2_000, desc: 'reuse the live trending items (the popularity fallback of unknown users and empty sessions) for this long, ms (0: read them for every fallback answer)' }),
  SCORER_RULES_EXCLUDE_INTERACTED: str({
    default: 'purchase',
    desc: 'never recommend items the user had events of these types with in the live window (comma-separated event types; empty: none); a request may replace it',
  }),
  SCORER_RULES_ONLY_AVAILABLE: bool({ default: true, desc: 'leave out items the catalogue marks unavailable (items not in the catalogue pass); a request may replace it' }),
  SCORER_RULES_EXCLUDE_CATEGORIES: str({ default: '', desc: 'never recommend items under these category paths (comma-separated, prefix by level); a request may replace it' }),
  SCORER_RULES_MAX_PER_CATEGORY: num({ default: 0, desc: 'at most this many items of one category in an answer (0: no cap); a request may replace it' }),
  SCORER_USE_USER_VECTORS: bool({
    default: true,
    desc: 'score from the user vector the embedding service stored when it is current for the live window (skips the forward pass)',
  }),
  SCORER_EXACT_TOPK: str({
    choices: ['int8', 'matmul'],
    default: 'int8',
    desc: 'exact top-k for a user vector without an index: int8 (an int8 scan of the item table in WebAssembly SIMD bounds every score, the few items that can still rank are rescored in full precision; same answer, per request, no batch, on the event loop; more cores: SCORER_WORKERS) or matmul, the throughput mode (micro-batched TF matMul + topk over every item, on TF threads: more stored-vector requests per second from one process, at a higher p99; see the README)',
  }),
  SCORER_INDEX_LISTS: str({
    default: 'auto',
    desc: `approximate top-k for user vectors: IVF clusters over the item table, a non-negative integer or auto (√items, rounded, for a model of at least ${AUTO_INDEX_MIN_ITEMS.toLocaleString('en')} items; fewer: 0); 0: exact top-k over every item (SCORER_EXACT_TOPK). Its recall@20 against exact is measured at every model load and exported; below SCORER_INDEX_MIN_RECALL the version is served exact`,
  }),
  SCORER_INDEX_PROBES: num({ default: 16, desc: 'approximate top-k: clusters scanned per query (more: higher recall, slower)' }),
  SCORER_INDEX_MIN_RECALL: num({
    default: 0.98,
    desc: 'the approximate index serves a model version only when the recall@20 measured at its load reaches this (0..1); below it the version is served by exact top-k and seqrec_scorer_index_in_use is 0',
  }),
  SCORER_API_KEYS: str({ default: '', desc: 'client credentials, added to AUTH_CLIENT_KEYS (kept for existing deployments): when either is set, x-api-key or Authorization: Bearer is required' }),
  SCORER_EXPERIMENT_POLL_MS: whole({
    default: 2_000,
    desc: 'read the active experiment from the experiment store this often, ms: a change through any replica is in force on every replica this long after it (plus its models\' load time); 0: only at start and on this replica\'s own API calls',
  }),
  SCORER_FEEDBACK_JOIN: bool({
    default: true,
    desc: "run the experiments' feedback join and shadow scoring in this process (it consumes the impressions, events and deletions topics, and loads the shadow model): k8s turns it off in the serving scorer and runs it in the scorer-feedback Deployment, so neither is on the served requests' event loop",
  }),
  SCORER_SHADOW_MAX_LOAD: num({
    default: 0.1,
    desc: "most of each second the shadow model may spend scoring impressions, on the event loop of the process that runs the feedback join (0..1): impressions it cannot reach while its queue is full are skipped (seqrec_shadow_requests_total{outcome=\"skipped\"})",
  }),
  SCORER_MODEL_POLL_SECONDS: num({ default: 60, desc: 'also check the store CURRENT pointer this often (0: only on announcements)' }),
  SCORER_WORKERS: str({
    default: '1',
    desc: 'scorer processes sharing the HTTP port (node:cluster): a positive integer or auto (the whole cores it may use, capped by its cgroup CPU limit); above 1 a supervising primary restarts a worker that dies, forwards SIGTERM, and any worker answers /metrics with every worker\'s series (label worker)',
  }),
  SCORER_MAX_BODY_BYTES: positiveWhole({ default: 262_144, desc: 'largest request body, bytes (413 above)' }),
};

/** The deployment's rule defaults from its variables (an unknown event type stops the start). */
export function ruleDefaults(env: Pick<CleanedEnv<typeof scoringEnv>, 'SCORER_RULES_EXCLUDE_INTERACTED' | 'SCORER_RULES_ONLY_AVAILABLE' | 'SCORER_RULES_EXCLUDE_CATEGORIES' | 'SCORER_RULES_MAX_PER_CATEGORY'>): RuleDefaults {
  let excludeInteracted: RuleDefaults['excludeInteracted'];
  try {
    excludeInteracted = parseEventTypes(env.SCORER_RULES_EXCLUDE_INTERACTED);
  } catch (err) {
    throw new EnvError({ SCORER_RULES_EXCLUDE_INTERACTED: (err as Error).message });
  }
  return {
    onlyAvailable: env.SCORER_RULES_ONLY_AVAILABLE,
    excludeInteracted,
    excludeCategories: env.SCORER_RULES_EXCLUDE_CATEGORIES.split(',').map((s) => s.trim()).filter(Boolean),
    maxPerCategory: Math.max(0, Math.floor(env.SCORER_RULES_MAX_PER_CATEGORY)),
  };
}

/** SCORER_NEW_ITEM_BOOST, checked to lie in [0, 1]. */
export function newItemBoost(env: Pick<CleanedEnv<typeof scoringEnv>, 'SCORER_NEW_ITEM_BOOST'>): number {
  const w = env.SCORER_NEW_ITEM_BOOST;
  if (!(w >= 0 && w <= 1)) throw new EnvError({ SCORER_NEW_ITEM_BOOST: `must be in [0, 1], got ${w}` });
  return w;
}

/** SCORER_SEARCH_BLEND_WEIGHT, checked to lie in [0, 1]. */
export function searchBlendWeight(env: Pick<CleanedEnv<typeof scoringEnv>, 'SCORER_SEARCH_BLEND_WEIGHT'>): number {
  const w = env.SCORER_SEARCH_BLEND_WEIGHT;
  if (!(w >= 0 && w <= 1)) throw new EnvError({ SCORER_SEARCH_BLEND_WEIGHT: `must be in [0, 1], got ${w}` });
  return w;
}

/** SCORER_SHADOW_MAX_LOAD, checked to lie in [0, 1]. */
export function shadowMaxLoad(env: Pick<CleanedEnv<typeof scoringEnv>, 'SCORER_SHADOW_MAX_LOAD'>): number {
  const x = env.SCORER_SHADOW_MAX_LOAD;
  if (!(x >= 0 && x <= 1)) throw new EnvError({ SCORER_SHADOW_MAX_LOAD: `must be in [0, 1], got ${x}` });
  return x;
}

/** SCORER_INDEX_LISTS: `auto` or a non-negative integer. */
export function indexLists(env: Pick<CleanedEnv<typeof scoringEnv>, 'SCORER_INDEX_LISTS'>): number | 'auto' {
  const v = env.SCORER_INDEX_LISTS.trim();
  if (v === 'auto') return 'auto';
  if (!/^\d+$/.test(v)) throw new EnvError({ SCORER_INDEX_LISTS: `must be auto or a non-negative integer, got ${JSON.stringify(env.SCORER_INDEX_LISTS)}` });
  return Number(v);
}

/** SCORER_INDEX_MIN_RECALL, checked to lie in [0, 1]. */
export function indexMinRecall(env: Pick<CleanedEnv<typeof scoringEnv>, 'SCORER_INDEX_MIN_RECALL'>): number {
  const x = env.SCORER_INDEX_MIN_RECALL;
  if (!(x >= 0 && x <= 1)) throw new EnvError({ SCORER_INDEX_MIN_RECALL: `must be in [0, 1], got ${x}` });
  return x;
}

/** The IVF lists for a model of `items` items: `auto` is √items (rounded) from AUTO_INDEX_MIN_ITEMS items on, else 0. */
export function resolveIndexLists(setting: number | 'auto', items: number): number {
  if (setting !== 'auto') return Math.min(setting, items);
  return items >= AUTO_INDEX_MIN_ITEMS ? Math.round(Math.sqrt(items)) : 0;
}
