/**
 * npm run bench:score — the scorer as its own process under open-loop HTTP load (./loadgen at a
 * fixed request rate per step), on real Redis: a SASRec over a 50,000-item catalogue and 100,000
 * users whose live windows are written to Redis with the window codec. BENCH_WEIGHTS=trained (the
 * default) trains the model on the generator's shop first and serves that shop's windows (cached:
 * ./score-world); `random` serves untrained weights and Zipf windows. What the weights learned
 * matters to serving: the int8 scan's pruning and an IVF index's recall both depend on how item
 * vectors cluster. Every request is `GET /v1/users/{random user}/recommendations?k=20`: read the window,
 * map it to model indices, SASRec forward pass (inline, in WebAssembly SIMD),
 * exact top-20 over all 50,000 items (int8 scan + full-precision rescoring; a TF matMul in the
 * throughput mode, stored_vector_matmul), or the approximate index in the *_index modes.
 *
 * Writes bench/results/score.json: per rate `rps` (asked), `achievedRps` (responses / s), `p50Ms`,
 * `p90Ms`, `p99Ms`, `p999Ms`, `maxMs` (from each request's intended send time: coordinated omission
 * corrected), `errors` (non-2xx other than 429/503 + socket errors + timeouts + dropped), `shed`
 * (429/503), `dropped` (due while BENCH_MAX_IN_FLIGHT were outstanding: not sent), the mean
 * micro-batch size, the scorer's CPU time per request and the cores used by the scorer, Redis and
 * the load generator (from /proc: on this shared machine the generator's CPU is the scorer's loss);
 * plus `peakRps` (highest asked rate whose p99 ≤ 50 ms with no errors, nothing
 * shed and ≥ 95% of the asked rate answered), `backend`, machine info.
 *
 * Protocol: per mode, a warm-up of BENCH_WARMUP_SECONDS (10) at BENCH_WARMUP_RPS (500), then per rate
 * BENCH_STEP_WARMUP_SECONDS (3) unmeasured at that rate and BENCH_SECONDS (10) measured: steady
 * state, not the JIT's transient at a new concurrency. The load generator shares this process: the
 * setup's data is dropped before the first mode (world.release), or its major GCs mid-step read as
 * latency; a forced GC before each step was tried and made it worse (V8 then sized the old
 * generation to the small live heap and ran a 10–14 ms mark-compact every ~3.3 s, --trace-gc). `p99BySecondMs` per rate shows the measured
 * seconds one by one (a burst vs a spread-out tail).
 *
 * Environment: KAFKA_BROKERS, REDIS_URL, BENCH_RATES (250,500,1000,2000,3000), BENCH_SECONDS (10),
 * BENCH_USERS (100,000), BENCH_ITEMS (50,000), BENCH_DIM (64), BENCH_WEIGHTS (trained | random),
 * BENCH_TRAIN_EVENTS (4,000,000), BENCH_TRAIN_MINUTES (10), BENCH_TRAIN_SEED (7), BENCH_MAX_IN_FLIGHT (1,024),
 * BENCH_RECALL_USERS (500: after its warm-up every mode answers these users once; an `_index` mode's
 * `recallAt20VsExact` compares its answers with those of the same mode without `_index`),
 * BENCH_FEEDBACK_SECONDS (120: the longest the `_shadow` modes wait for their feedback process to catch up),
 * BENCH_CPU_PROF=1 (V8 CPU profile of the scorer in bench/profiles), BENCH_HEAP_PROF=1 (where the
 * scorer allocates, garbage included: bench/profiles/scorer-<mode>.heapprofile, summarised by
 * scripts/heapprofile-top.mjs; BENCH_HEAP_PROF_KEEP=promoted keeps only what outlived the young
 * generation), BENCH_SCORER_NODE_ARGS (extra
 * node flags for the scorer, e.g. `--trace-gc`; its log is in test/logs), BENCH_LOADGEN_NICE (0: the
 * niceness of the load generator's thread; raising it gives the scorer the CPU first, but the
 * generator's own receive timestamps may then lag, which can only inflate the latencies), SCORER_*
 * passed through, BENCH_NEW_ITEMS (0: catalogue items the model has not seen; with N > 0 the artifact
 * carries a content map fitted on the catalogue's categories and N more items are written to the
 * catalogue, which the scorer scores from their content inside every top-k), BENCH_RESULT_NAME (the results file, bench/results/<name>.json, so a run over a
 * few modes need not replace the full run's file; every benchmark takes it). A mode `<base>_shadow`
 * runs with an experiment and a shadow model in force (`shadowScoredPerSecond` and the feedback
 * process's `feedbackCores` per step).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveArtifact, saveGraphArtifact } from '@seqrec/artifacts';
import { CoocRecommender, itemCounts } from '@seqrec/datasets';
import { RedisKeys, encodeItem } from '@seqrec/contracts';
import { Rng } from '@seqrec/random';
import { encodeUserVector } from '@seqrec/window';
import { ContentMap, initBackend, itemContentFeatures } from '@seqrec/model';
import { FsModelStore } from '@seqrec/model-store';
import { RedisCatalogueStore, RedisItemDictionary, createRedis } from '@seqrec/redis';
import { deleteNamespace } from '@seqrec/redis/testing';
import { encodeWindow, type WindowEvent } from '@seqrec/window';
import { metricSum, startService } from '@seqrec/testing';
import { openLoop, quantile } from './loadgen';
import { CATEGORIES, scoreWorld } from './score-world';
import { cpuMeter, envNumber, infraPids, machineInfo, processTree, rssBytes, writeResult } from './machine';

const RATES = (process.env.BENCH_RATES ?? '250,500,1000,2000,3000').split(',').map(Number);
const SECONDS = envNumber('BENCH_SECONDS', 10);
const USERS = envNumber('BENCH_USERS', 100_000);
const ITEMS = envNumber('BENCH_ITEMS', 50_000);
const DIM = envNumber('BENCH_DIM', 64);
const NEW_ITEMS = envNumber('BENCH_NEW_ITEMS', 0);
const MODES = (
  process.env.BENCH_MODES ??
  'stored_vector_index_rules,stored_vector_rules,stored_vector_index,stored_vector,live_window_index_rules,live_window_rules,live_window_index,live_window,live_window_explain,stored_vector_matmul,graph_cooc,stored_vector_index_w2,live_window_w2'
).split(',');
/** A mode `<base>_w<N>` is `<base>` with SCORER_WORKERS=N (N scorer processes sharing the port). */
const workersOf = (mode: string): number => Number(/_w(\d+)$/.exec(mode)?.[1] ?? 1);
/** A mode `<base>_rules` is `<base>` with business rules on every request ({@link RULES_QUERY}). */
const baseOf = (mode: string): string => mode.replace(/_w\d+$/, '').replace(/_(rules|explain|shadow)(?=_|$)/g, '');
const withRules = (mode: string): boolean => /_rules(?=_|$)/.test(mode);
/** A mode `<base>_explain` asks every request for explanations (`explain=true`: occlusion over the window). */
const withExplain = (mode: string): boolean => /_explain(?=_|$)/.test(mode);
/**
 * A mode `<base>_shadow` runs with an experiment in force (docs/experiments.md), deployed as k8s
 * deploys it: the serving scorer (SCORER_FEEDBACK_JOIN=false) stamps every answer and publishes its
 * impression to Kafka; the feedback join and the shadow (sample 1) run in a scorer-feedback process,
 * which in k8s has cores of its own. On these 2 cores a co-located one takes them from the serving
 * scorer (bench/results/score-experiments-3.json), so it starts after the measured steps and
 * catches up on the impressions they published (`feedbackCatchUp`: seconds to join them all, the
 * shadow's scorings and rate, its cores).
 */
const withShadow = (mode: string): boolean => /_shadow(?=_|$)/.test(mode);
/**
 * The rules of the `_rules` modes, over the catalogue the bench writes (every item: one of 400
 * categories in 20 top-level ones, a price, 10% unavailable): only available items (the default),
 * a price from 5 to 900, at most 2 per category, no item the user clicked, carted or bought.
 */
const RULES_QUERY = '&available=true&minPrice=5&maxPrice=900&maxPerCategory=2&excludeInteracted=click,add_to_cart,purchase';
/** SCORER_INDEX_LISTS of the `_index` modes: the scorer's default, `auto` (√items lists from 20,000 items on), unless set. */
const INDEX_LISTS = process.env.BENCH_INDEX_LISTS ?? 'auto';
/** Users whose answers every mode records after its warm-up (recall of the `_index` modes). */
const RECALL_USERS = envNumber('BENCH_RECALL_USERS', 500);
const INDEX_PROBES = envNumber('BENCH_INDEX_PROBES', 16);
const MAX_IN_FLIGHT = envNumber('BENCH_MAX_IN_FLIGHT', 1024);
const LOADGEN_NICE = envNumber('BENCH_LOADGEN_NICE', 0);
const WARMUP_RPS = envNumber('BENCH_WARMUP_RPS', 500);
const WARMUP_SECONDS = envNumber('BENCH_WARMUP_SECONDS', 10);
const STEP_WARMUP_SECONDS = envNumber('BENCH_STEP_WARMUP_SECONDS', 3);
const FEEDBACK_SECONDS = envNumber('BENCH_FEEDBACK_SECONDS', 120);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:16379';
const log = (msg: string) => console.error(`[bench:score ${process.uptime().toFixed(1)}s] ${msg}`);

/** Every series of a scorer metric (one per worker under SCORER_WORKERS > 1). */
async function scorerSeries(metricsUrl: string, name: string): Promise<number[]> {
  const text = await (await fetch(metricsUrl)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => Number(line.slice(line.lastIndexOf(' ') + 1)));
}

/**
 * The feedback process of a `_shadow` mode, started after the measured steps (in k8s it has cores of
 * its own): how long it takes from its start to join every impression the serving scorer published,
 * how fast the shadow model scores (sample 1, SCORER_SHADOW_MAX_LOAD 0.5; a backlog beyond its queue
 * is skipped), and its CPU.
 */
async function measureFeedback(env: Record<string, string>, published: number): Promise<Record<string, number>> {
  const t0 = performance.now();
  const feedback = await startService('scorer', { ...env, SCORER_WORKERS: '1', SCORER_FEEDBACK_JOIN: 'true', SCORER_SHADOW_MAX_LOAD: '0.5', SCORER_EXPERIMENT_POLL_MS: '500' }, 120_000);
  try {
    const cpu = cpuMeter({ 'scorer-feedback': feedback.proc.pid!, redis: infraPids().redis });
    const shadow = (outcome: string) => metricSum(feedback.metricsUrl, 'seqrec_shadow_requests_total', `outcome="${outcome}"`);
    let joinedAt = NaN;
    let [scored, firstScoredAt, lastScoredAt] = [0, NaN, NaN];
    for (const until = performance.now() + FEEDBACK_SECONDS * 1000; performance.now() < until; ) {
      await new Promise((r) => setTimeout(r, 250));
      const now = performance.now();
      if (Number.isNaN(joinedAt) && (await metricSum(feedback.metricsUrl, 'seqrec_experiment_impressions_total')) >= published) joinedAt = now;
      const s = await shadow('scored');
      if (s > scored) {
        if (scored === 0) firstScoredAt = now;
        [scored, lastScoredAt] = [s, now];
      } else if (!Number.isNaN(joinedAt) && scored > 0 && now - lastScoredAt > 2_000) break;
    }
    const use = cpu();
    const out = {
      impressionsPublished: published,
      secondsToJoinAll: +((joinedAt - t0) / 1000).toFixed(1),
      shadowScored: scored,
      shadowSkipped: await shadow('skipped'),
      shadowScoredPerSecond: lastScoredAt > firstScoredAt ? +(scored / ((lastScoredAt - firstScoredAt) / 1000)).toFixed(1) : NaN,
      feedbackCores: use['scorer-feedback']?.cores ?? NaN,
    };
    log(`feedback process (started after the steps): ${JSON.stringify(out)}`);
    return out;
  } finally {
    await feedback.stop();
  }
}

async function main(): Promise<void> {
  const ns = `bench-score-${Date.now().toString(36)}`;
  const keys = new RedisKeys(ns);
  const dir = mkdtempSync(join(tmpdir(), 'bench-score-'));
  const redis = createRedis({ url: redisUrl, connectionName: 'seqrec-bench' });
  let graphEdges = 0;
  await redis.connect();
  try {
    const backend = await initBackend();
    const store = new FsModelStore(dir);
    const world = await scoreWorld({ items: ITEMS, dim: DIM, users: USERS, log });
    const { encoder, itemIds } = world;
    const users = world.users;
    log(`backend ${backend.name}; model: SASRec ${ITEMS} items × ${DIM}, 2 blocks, L=50, ${world.describe.weights}; ${users} users`);
    // the catalogue: every item one of 400 categories in 20 top-level ones, a price, 10% unavailable;
    // BENCH_NEW_ITEMS more that the model has not seen
    const crng = new Rng(5);
    const itemOf = (itemId: string, c: number) => ({ itemId, category: `C${c % 20}/C${c}`, price: Math.round(crng.float() * 100_000) / 100, available: crng.float() >= 0.1 });
    const items = itemIds.map((id, i) => itemOf(id, world.categoryOf[i]!));
    const newItems = Array.from({ length: NEW_ITEMS }, (_, i) => itemOf(`new-item-${i}`, crng.int(CATEGORIES)));
    // with new items, the content map a trained artifact would carry: categories → item rows
    const contentMap = NEW_ITEMS > 0 ? ContentMap.fit(items.map(itemContentFeatures), (encoder.itemTable().dataSync() as Float32Array).slice(DIM), DIM, { seed: 1 }) : null;
    await saveArtifact(store, {
      manifest: { model: 'sasrec', version: 'bench', createdAt: new Date().toISOString(), data: world.describe.weights, metrics: {}, backend: backend.name },
      encoder,
      vocabulary: ['', ...itemIds],
      popularity: world.popularity,
      contentMap,
    });
    await store.promote('sasrec', 'bench');
    if (MODES.some(withRules) || NEW_ITEMS > 0) {
      const catalogue = new RedisCatalogueStore(redis, keys);
      const all = [...items, ...newItems];
      for (let i = 0; i < all.length; i += 5_000) await catalogue.apply(all.slice(i, i + 5_000).map((item) => ({ itemId: item.itemId, record: encodeItem(item, Date.now()) })));
      log(`catalogue: ${ITEMS} items written to Redis (400 categories, prices 0-1000, 10% unavailable)${NEW_ITEMS ? `, and ${NEW_ITEMS} new ones the model has not seen` : ''}`);
    }

    log(`writing ${users} live windows to Redis (${ns})`);
    const dict = new RedisItemDictionary(redis, keys);
    const storeIndex: number[] = [];
    for (let i = 0; i < ITEMS; i += 5_000) storeIndex.push(...(await dict.indicesOf(itemIds.slice(i, i + 5_000))));
    const prng = new Rng(11);
    const rand = () => prng.float();
    const now = Math.floor(Date.now() / 1000) * 1000;
    const withVectors = MODES.some((m) => baseOf(m).startsWith('stored_vector'));
    const withGraph = MODES.map(baseOf).includes('graph_cooc');
    const allHistories: Int32Array[] = [];
    let encodeSeconds = 0;
    const recallSample: Array<{ history: Int32Array; vector: Float32Array; exact: Int32Array }> = [];
    for (let u = 0; u < users; u += 1_000) {
      const pipe = redis.pipeline();
      const batch: Array<{ id: string; history: Int32Array; lastTs: number; events: number }> = [];
      for (let v = u; v < Math.min(users, u + 1_000); v++) {
        const w = world.window(v);
        const n = w.items.length;
        const events: WindowEvent[] = [];
        let ts = now - n * 60_000;
        for (let e = 0; e < n; e++) {
          const it = w.items[e]!;
          events.push({ item: it < 0 ? -1 : storeIndex[it]!, type: w.types[e]!, ts });
          ts += 1000 * (1 + Math.floor(rand() * 59));
        }
        // the model's input: the window's items (searches have none), model rows are catalogue index + 1
        const history = Int32Array.from(Array.from(w.items).filter((it) => it >= 0), (it) => it + 1);
        pipe.set(keys.userSequence(`u${v}`), encodeWindow({ watermark: { partition: 0, offset: v }, events }), 'PX', 3_600_000);
        batch.push({ id: `u${v}`, history, lastTs: events[n - 1]!.ts, events: n });
        if (withGraph) allHistories.push(history);
      }
      if (withVectors) {
        // What the embedding service stores after each window update (same encoder, same codec).
        const t0 = process.hrtime.bigint();
        const t = encoder.encode(batch.map((x) => x.history));
        const data = (await t.data()) as Float32Array;
        t.dispose();
        encodeSeconds += Number(process.hrtime.bigint() - t0) / 1e9;
        batch.forEach((x, i) => {
          const vector = data.slice(i * DIM, (i + 1) * DIM);
          const buf = encodeUserVector({ version: 'bench', lastTs: x.lastTs, events: x.events, vector });
          pipe.set(keys.userVector(x.id), buf, 'PX', 3_600_000);
          if (i % 4 === 0 && recallSample.length < 200) recallSample.push({ history: x.history, vector: Float32Array.from(new Int8Array(buf.buffer, buf.byteOffset + buf.length - DIM, DIM), (q) => q * buf.readFloatBE(3)), exact: new Int32Array(0) });
        });
      }
      await pipe.exec();
    }
    world.release();
    if (withVectors) log(`user vectors: ${users} windows encoded in ${encodeSeconds.toFixed(1)} s (batches of 1,000)`);
    // Recall@20 of top-20 from the stored (int8) vector against exact top-20 from the live window.
    let recall = NaN;
    if (recallSample.length) {
      const exact = await encoder.topK(recallSample.map((r) => r.history), 20);
      const itemsT = encoder.itemTable();
      let hit = 0;
      for (let i = 0; i < recallSample.length; i++) {
        const s = backend.tf.tidy(() => backend.tf.topk(backend.tf.matMul(backend.tf.tensor2d(recallSample[i]!.vector, [1, DIM]), itemsT, false, true).slice([0, 1]), 20));
        const idx = Array.from(await s.indices.data(), (x) => x + 1);
        s.values.dispose();
        s.indices.dispose();
        const want = new Set(exact[i]!.items);
        hit += idx.filter((x) => want.has(x)).length;
      }
      recall = hit / (20 * recallSample.length);
      log(`stored-vector recall@20 vs exact: ${recall.toFixed(4)} over ${recallSample.length} users`);
    }
    encoder.dispose();
    if (withGraph) {
      // graph_cooc: a co-occurrence model fitted on these same windows, served from its item graph.
      const t0 = performance.now();
      const cooc = new CoocRecommender().fit(allHistories, ITEMS);
      const graph = cooc.asGraph();
      await saveGraphArtifact(store, {
        manifest: { model: 'cooc', version: 'bench', createdAt: new Date().toISOString(), data: 'the bench windows', metrics: {}, backend: 'none', details: { kind: 'cooc' } },
        model: graph,
        vocabulary: ['', ...itemIds],
        popularity: itemCounts(allHistories, ITEMS),
      });
      await store.promote('cooc', 'bench');
      graphEdges = graph.graph.neighbours.length;
      log(`co-occurrence graph: ${graphEdges} edges over ${ITEMS} items, fitted in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      allHistories.length = 0;
    }

    const profDir = join(__dirname, '..', 'profiles');
    mkdirSync(profDir, { recursive: true });
    const nodeArgs = [
      ...(process.env.BENCH_CPU_PROF === '1' ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
      ...(process.env.BENCH_HEAP_PROF === '1' ? ['--require', join(__dirname, 'heap-sample.js')] : []),
      ...(process.env.BENCH_SCORER_NODE_ARGS ?? '').split(' ').filter(Boolean),
    ];
    const modes: Record<
      string,
      {
        steps: Array<Record<string, number>>;
        peakRps: number;
        indexRecallAt20?: number;
        recallAt20VsExact?: { exactMode: string; users: number; recall: number; answersBelowK: number };
        workers: number;
        scorerRssMB: number;
        p99BySecondMs: Record<string, Array<number | null>>;
        feedbackCatchUp?: Record<string, number>;
      }
    > = {};
    // Every mode's answers for the same users (same request as the load's): an approximate mode's
    // recall@20 against its exact peer's (the mode without `_index`), rules included.
    const answers = new Map<string, string[][]>();
    const answerUsers = Array.from({ length: Math.min(RECALL_USERS, users) }, (_, i) => Math.floor((i * users) / Math.min(RECALL_USERS, users)));
    for (const mode0 of MODES) {
    const mode = baseOf(mode0);
    const workers = workersOf(mode0);
    const rules = withRules(mode0);
    const explain = withExplain(mode0);
    const shadow = withShadow(mode0);
    log(`mode ${mode0}${workers > 1 ? ` (${workers} scorer workers)` : ''}`);
    const scorerEnv = {
        KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:19092',
        KAFKA_NAMESPACE: ns,
        REDIS_URL: redisUrl,
        REDIS_PREFIX: ns,
        MODEL_STORE_DIR: dir,
        LOG_LEVEL: 'warn',
        SCORER_MODEL_POLL_SECONDS: '0',
        MODEL_NAME: mode === 'graph_cooc' ? 'cooc' : 'sasrec',
        SCORER_USE_USER_VECTORS: String(mode.startsWith('stored_vector')),
        SCORER_EXACT_TOPK: mode.endsWith('_matmul') ? 'matmul' : 'int8',
        SCORER_INDEX_LISTS: mode.endsWith('_index') ? INDEX_LISTS : '0',
        SCORER_INDEX_PROBES: String(INDEX_PROBES),
        SCORER_WORKERS: String(workers),
        ...(process.env.BENCH_HEAP_PROF === '1'
          ? { SEQREC_HEAP_PROFILE: join(profDir, `scorer-${mode}.heapprofile`), SEQREC_HEAP_PROFILE_KEEP: process.env.BENCH_HEAP_PROF_KEEP ?? 'all' }
          : {}),
    };
    // as k8s deploys them: every mode's scorer is a serving replica (SCORER_FEEDBACK_JOIN=false); in a
    // _shadow mode it publishes impressions, and a scorer-feedback process joins them and runs the
    // shadow (on other cores in k8s: here it runs after the measured steps)
    const scorer = await startService('scorer', { ...scorerEnv, SCORER_FEEDBACK_JOIN: 'false' }, 120_000, nodeArgs);
    // The scorer is ready when one worker is: wait until every worker serves its model.
    for (const until = Date.now() + 120_000; (await scorerSeries(scorer.metricsUrl, 'seqrec_scorer_model_info')).length < workers; ) {
      if (Date.now() > until) throw new Error(`${workers} scorer workers not all serving after 120 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
    if (shadow) {
      const model = { name: mode === 'graph_cooc' ? 'cooc' : 'sasrec', version: 'bench' };
      const res = await fetch(`${scorer.url}/v1/experiments/bench-shadow`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ variants: [{ name: 'control', share: 1 }], shadow: { model, sample: 1 } }),
      });
      const body = (await res.json()) as { inForce?: boolean };
      if (res.status !== 200 || !body.inForce) throw new Error(`the shadow experiment did not start: ${res.status} ${JSON.stringify(body)}`);
      log('experiment with a shadow in force: every answer stamped, its impression published');
    }
    // After the scorer started (a child inherits its parent thread's niceness); restored before the next.
    if (LOADGEN_NICE) setPriority(0, LOADGEN_NICE);
    const steps: Array<Record<string, number>> = [];
    const p99BySecondMs: Record<string, Array<number | null>> = {};
    let indexRecallAt20: number | undefined;
    let scorerRssMB = 0;
    let feedbackCatchUp: Record<string, number> | undefined;
    try {
      if (mode.endsWith('_index')) {
        // Every worker measures its own index at load (the same build): their mean.
        const recalls = await scorerSeries(scorer.metricsUrl, 'seqrec_scorer_index_recall_at_20_ratio');
        indexRecallAt20 = recalls.reduce((a, b) => a + b, 0) / recalls.length;
        const inUse = await scorerSeries(scorer.metricsUrl, 'seqrec_scorer_index_in_use');
        if (!inUse.length || inUse.some((x) => x !== 1)) throw new Error(`the ${mode0} scorer does not serve from its index (seqrec_scorer_index_in_use ${inUse.join(',') || 'absent'}; recall at load ${indexRecallAt20})`);
        log(`approximate index (SCORER_INDEX_LISTS=${INDEX_LISTS}), ${INDEX_PROBES} probed; recall@20 vs exact measured by the scorer at load: ${indexRecallAt20}`);
      }
      // Latencies by the second of their intended send time: whether a tail is a burst or spread out.
      let bySecond: number[][] = [];
      let startAt = 0;
      const run = (rate: number, seconds: number) => {
        bySecond = [];
        startAt = performance.now();
        return openLoop({
          url: scorer.url,
          rate,
          seconds,
          timeoutMs: 10_000,
          maxInFlight: MAX_IN_FLIGHT,
          path: () => `/v1/users/u${Math.floor(rand() * users)}/recommendations?k=20${rules ? RULES_QUERY : ''}${explain ? '&explain=true' : ''}`,
          onResponse: (r) => void (bySecond[Math.max(0, Math.floor((r.intendedAt - startAt) / 1000))] ??= []).push(r.latencyMs),
        });
      };
      log(`warm-up: ${WARMUP_SECONDS} s at ${WARMUP_RPS} rps`);
      await run(WARMUP_RPS, WARMUP_SECONDS);
      if (!explain) {
        const got: string[][] = [];
        for (const u of answerUsers) {
          const res = await fetch(`${scorer.url}/v1/users/u${u}/recommendations?k=20${rules ? RULES_QUERY : ''}`);
          if (res.status !== 200) throw new Error(`u${u}: ${res.status} ${await res.text()}`);
          got.push(((await res.json()) as { items: Array<{ itemId: string }> }).items.map((it) => it.itemId));
        }
        answers.set(mode0, got);
      }
      // Resident memory of the scorer (all its processes) after the warm-up: what a pod's limit must hold.
      scorerRssMB = Math.round(processTree(scorer.proc.pid!).reduce((a, pid) => a + rssBytes(pid), 0) / 2 ** 20);
      log(`scorer resident memory: ${scorerRssMB} MB`);
      for (const rate of RATES) {
        // Each rate first runs unmeasured: V8 compiles the request path for the new concurrency (the
        // first second of a step from 200 to 1,000 rps measured p99 ~700 ms, the next ones ~5 ms).
        if (STEP_WARMUP_SECONDS > 0) await run(rate, STEP_WARMUP_SECONDS);
        const [b0, c0] = [await metricSum(scorer.metricsUrl, 'seqrec_scorer_batch_size_requests_sum'), await metricSum(scorer.metricsUrl, 'seqrec_scorer_batch_size_requests_count')];
        // The scorer's CPU: its process and, with SCORER_WORKERS > 1, every worker under it.
        const cpu = cpuMeter({ scorer: processTree(scorer.proc.pid!), redis: infraPids().redis, kafka: infraPids().kafka, 'bench (load generator)': process.pid });
        const stepAt = new Date().toISOString();
        const res = await run(rate, SECONDS);
        const cpuUse = cpu();
        const [b1, c1] = [await metricSum(scorer.metricsUrl, 'seqrec_scorer_batch_size_requests_sum'), await metricSum(scorer.metricsUrl, 'seqrec_scorer_batch_size_requests_count')];
        const step = {
          rps: rate,
          achievedRps: Math.round(res.achievedRps),
          p50Ms: res.latency.p50,
          p90Ms: res.latency.p90,
          p99Ms: res.latency.p99,
          p999Ms: res.latency.p999,
          maxMs: res.latency.max,
          errors: res.errors,
          shed: res.shed,
          dropped: res.dropped,
          meanBatch: c1 > c0 ? +((b1 - b0) / (c1 - c0)).toFixed(1) : 0,
          generatorSendLagP99Ms: res.sendLagMs.p99,
          scorerCpuMsPerRequest: cpuUse['scorer'] && res.achievedRps > 0 ? +((cpuUse['scorer'].cpuSeconds * 1000) / (res.achievedRps * SECONDS)).toFixed(3) : NaN,
          scorerCores: cpuUse['scorer']?.cores ?? NaN,
          redisCores: cpuUse['redis']?.cores ?? NaN,
          kafkaCores: cpuUse['kafka']?.cores ?? NaN,
          benchCores: cpuUse['bench (load generator)']?.cores ?? NaN,
        };
        p99BySecondMs[String(rate)] = Array.from(bySecond, (l) => (l && l.length ? +quantile(l.sort((a, b) => a - b), 99).toFixed(1) : null));
        steps.push(step);
        log(JSON.stringify(step));
        log(`p99 by second from ${stepAt}: ${p99BySecondMs[String(rate)]!.join(' ')}`);
      }
      if (shadow) {
        feedbackCatchUp = await measureFeedback(scorerEnv, await metricSum(scorer.metricsUrl, 'seqrec_experiment_impressions_published_total'));
        // the next mode runs without it
        const stopped = await fetch(`${scorer.url}/v1/experiments/bench-shadow`, { method: 'DELETE' });
        if (stopped.status !== 200) throw new Error(`the shadow experiment did not stop: ${stopped.status}`);
      }
    } finally {
      if (LOADGEN_NICE) setPriority(0, 0); // needs CAP_SYS_NICE: fails loudly rather than skew the next mode
      await scorer.stop();
    }
    const ok = steps.filter((s) => s.p99Ms! <= 50 && s.errors === 0 && s.shed === 0 && s.achievedRps! >= 0.95 * s.rps!);
    modes[mode0] = {
      steps,
      peakRps: ok.length ? Math.max(...ok.map((s) => s.rps!)) : 0,
      ...(indexRecallAt20 === undefined ? {} : { indexRecallAt20 }),
      workers,
      scorerRssMB,
      p99BySecondMs,
      ...(feedbackCatchUp ? { feedbackCatchUp } : {}),
    };
    }
    for (const [mode0, got] of answers) {
      const exactMode = mode0.replace('_index', '');
      const exact = answers.get(exactMode);
      if (exactMode === mode0 || !exact) continue;
      let hit = 0;
      let want = 0;
      for (let i = 0; i < got.length; i++) {
        const truth = new Set(exact[i]);
        want += truth.size;
        hit += got[i]!.filter((id) => truth.has(id)).length;
      }
      const r = { exactMode, users: got.length, recall: +(hit / want).toFixed(5), answersBelowK: got.filter((a) => a.length < 20).length };
      modes[mode0]!.recallAt20VsExact = r;
      log(`${mode0}: recall@20 against ${exactMode} over the same ${r.users} users' answers: ${r.recall}`);
    }
    const main = modes[MODES[0]!]!;
    const result = {
      benchmark: 'score',
      at: new Date().toISOString(),
      request: 'GET /v1/users/{userId}/recommendations?k=20 (top-20 over the full catalogue)',
      modesExplained: {
        live_window: 'every request encodes the live window (SASRec forward pass, inline in WebAssembly SIMD), exact top-20 per request (SCORER_EXACT_TOPK=int8, the default: an int8 scan of the item table in WebAssembly SIMD bounds every score, the few items that can still rank are rescored in full precision)',
        stored_vector: 'the user vector stored by the embedding pipeline is current for the window: no forward pass (int8-coded vector), exact top-20 by the int8 scan',
        stored_vector_matmul: 'stored_vector with SCORER_EXACT_TOPK=matmul, the throughput mode (micro-batched TF matMul + topk over every item, on TF threads)',
        live_window_index: `live_window, top-20 from the approximate IVF index (SCORER_INDEX_LISTS=${INDEX_LISTS}, ${INDEX_PROBES} probed) instead of scoring every item`,
        stored_vector_index: `stored_vector with the approximate IVF index (SCORER_INDEX_LISTS=${INDEX_LISTS}, ${INDEX_PROBES} probed): no forward pass, no micro-batch. With auto lists this is the scorer's default for a catalogue of 20,000 items or more (below SCORER_INDEX_MIN_RECALL at load, 0.98, it would be served exact; the bench fails instead)`,
        stored_vector_index_rules: 'stored_vector_index with the rules of stored_vector_rules: the default mode with rules on',
        live_window_w2: 'live_window with SCORER_WORKERS=2: two scorer processes share the port (node:cluster), each its own event loop, model and connections',
        stored_vector_w2: 'stored_vector with SCORER_WORKERS=2',
        stored_vector_index_w2: 'stored_vector_index with SCORER_WORKERS=2',
        graph_cooc_w2: 'graph_cooc with SCORER_WORKERS=2',
        live_window_rules: `live_window with business rules on every request (${RULES_QUERY.slice(1)}) over a 50,000-item catalogue (400 categories, 10% unavailable), applied inside the exact top-k scan`,
        stored_vector_rules: 'stored_vector with the same rules',
        live_window_explain: 'live_window with explain=true on every request: each of the 20 items explained by occlusion (the window scored once more per event, through the inline encoder)',
        graph_cooc: `a co-occurrence model (the cooc baseline, default parameters) fitted on the same windows (${graphEdges} edges), served from its item graph: the window's last 5 items' neighbour lists summed in JS, exact top-20, no TF`,
      },
      indexNote: `indexRecallAt20 per mode is measured by the scorer at model load (200 popularity-sampled users, IVF vs exact top-20)${world.describe.training ? '' : '; with random, untrained weights the item vectors have no cluster structure, the worst case for an IVF index'}`,
      model: { kind: 'sasrec', items: ITEMS, dim: DIM, blocks: 2, heads: 1, maxLen: 50, weights: world.describe.weights, ...(world.describe.training ? { training: world.describe.training } : {}) },
      newItems: NEW_ITEMS,
      users,
      windowEvents: world.describe.windows,
      secondsPerRate: SECONDS,
      loadGeneratorNice: LOADGEN_NICE,
      loadGenerator: `open-loop (bench/src/loadgen.ts): requests at fixed 1/rate intervals regardless of responses, latency from each request's intended send time (coordinated omission corrected), node:http keep-alive, at most ${MAX_IN_FLIGHT} in flight (beyond: dropped, counted as errors), same machine; per mode a ${WARMUP_SECONDS} s warm-up at ${WARMUP_RPS} rps, per rate ${STEP_WARMUP_SECONDS} s unmeasured then ${SECONDS} s measured`,
      scorer: {
        SCORER_MAX_BATCH: process.env.SCORER_MAX_BATCH ?? '64 (default)',
        SCORER_MAX_WAIT_MS: process.env.SCORER_MAX_WAIT_MS ?? '1 (default)',
        SCORER_MAX_QUEUE: process.env.SCORER_MAX_QUEUE ?? '512 (default)',
      },
      mode: MODES[0],
      steps: main.steps,
      peakRps: main.peakRps,
      modes,
      storedVectorRecallAt20: recall,
      backend: backend.name,
      backendVersion: backend.version,
      machine: machineInfo(),
    };
    log(`wrote ${writeResult('score', result)}`);
  } finally {
    await deleteNamespace(redis, keys);
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
