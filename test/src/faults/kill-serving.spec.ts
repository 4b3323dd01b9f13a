/**
 * SIGKILL loops on the serving side, under load (events flowing through ingester and builder, and
 * clients calling the killed service all the time), with a new model promoted while it is down:
 * - embedding service: its answers are 2xx or 503 only, it is ready again within seconds, it serves
 *   the promoted model, and every stored user vector converges to the encoding of the user's
 *   window by that model (recomputed here with the same artifact: cosine ≥ 0.999, each component
 *   within the int8 quantisation step);
 * - scorer: its answers are 2xx or 503 only, it is ready again within seconds and serves the
 *   promoted model.
 * The stream oracle (events topic and windows exact) holds throughout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadArtifact } from '@seqrec/artifacts';
import { TOPICS, type ModelPromotedV1 } from '@seqrec/contracts';
import { EmbeddingModel } from '@seqrec/embedding';
import type { GeneratedRecord } from '@seqrec/generator';
import { testKafka, waitFor } from '@seqrec/kafka/testing';
import { FsModelStore } from '@seqrec/model-store';
import { createTestArtifact } from '@seqrec/scoring/testing';
import { decodeUserVector, decodeWindow } from '@seqrec/window';
import { announce, between, pick } from './lib/config';
import { FaultInfra } from './lib/infra';
import { EventSource, RawLoad, uniqueValid, type LoadEvent } from './lib/load';
import { Prober } from './lib/probe';
import { runStreamScenario } from './lib/scenario';
import type { App, KillLoopReport, Member, Stack } from './lib/stack';

announce('kill-serving');

const ITEMS = Array.from({ length: 300 }, (_, i) => `p${i}`);
const MODEL = 'sasrec';
const KILLS = pick(10, 12);
/** "Ready again within seconds": from the kill to /health/ready answering 200. */
const READY_BOUND_MS = 15_000;

async function announceModel(stack: Stack, store: FsModelStore, version: string): Promise<void> {
  const producer = testKafka('seqrec-faults-models', stack.brokers).producer({ kafkaJS: { acks: -1 } });
  await producer.connect();
  try {
    const a: ModelPromotedV1 = { model: MODEL, version, uri: store.location(MODEL, version), metrics: {}, promotedAt: Date.now() };
    await producer.send({ topic: stack.topic(TOPICS.MODELS), messages: [{ key: MODEL, value: JSON.stringify(a) }] });
  } finally {
    await producer.disconnect();
  }
}

/** One more event per user, newer than all before: every window changes after the last kill and the promotion. */
function finalRound(users: string[], seed: number): GeneratedRecord[] {
  const now = Date.now() - 60_000;
  return users.map((userId, i) => ({ kind: 'event', event: { eventId: `final-${seed}-${i}`, userId, type: 'view', itemId: ITEMS[i % ITEMS.length]!, ts: now } }) as GeneratedRecord);
}

/** A user of one of the last 200 records published (`nobody` before any). */
function recentUser(load: RawLoad, random: () => number): string {
  const r = load.sent[load.sent.length - 1 - Math.floor(random() * Math.min(200, load.sent.length))];
  return r && r.kind !== 'malformed' ? (r.event.userId ?? 'nobody') : 'nobody';
}

/** Ingester, builder and `more`, then the raw load every scenario here runs under. */
async function startStream(stack: Stack, seed: number, more: App[]): Promise<RawLoad> {
  await stack.start('ingester');
  await stack.start('sequence-builder');
  for (const app of more) await stack.start(app);
  const source = new EventSource({ seed, maxEvents: pick(6_000, 15_000), itemIds: ITEMS });
  return new RawLoad(stack.brokers, stack.topic(TOPICS.CLICKSTREAM_RAW), source, { rate: pick(300, 400) }).start();
}

/** The kill loop's `whileDown`: at kill `promoteAt`, a new model `version` is trained (a test artifact) and promoted. */
function promoteWhileDown(stack: Stack, store: FsModelStore, version: string, seed: number, promoteAt: number): (kill: number) => Promise<void> {
  return async (kill) => {
    if (kill !== promoteAt) return;
    await createTestArtifact(store, { items: ITEMS, version, dim: 16, maxLen: 20, seed });
    await announceModel(stack, store, version);
  };
}

/** What the clients saw of the killed service: answers other than 2xx and 503, a restart slower than the bound. */
function servingFailures(what: string, prober: Prober, report: KillLoopReport): { failures: string[]; slowest: number } {
  const failures: string[] = [];
  if (prober.unexpected().length) failures.push(`${what} answers other than 2xx and 503: ${prober.describe()}`);
  const slowest = Math.max(...report.readyMs);
  if (slowest > READY_BOUND_MS) failures.push(`${what} took ${slowest} ms to be ready again after a kill (bound ${READY_BOUND_MS})`);
  return { failures, slowest };
}

const usersOf = (records: GeneratedRecord[]) => [...new Set(uniqueValid(records).map((e) => e.userId))];

describe('fault: embedding service and scorer SIGKILLed at random moments', () => {
  let infra: FaultInfra;
  const dirs: string[] = [];
  before(async () => {
    infra = await FaultInfra.acquire();
  });
  after(async () => {
    await infra?.release();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** A model store of its own with v0001 promoted. */
  async function modelStore(): Promise<{ dir: string; store: FsModelStore }> {
    const dir = mkdtempSync(join(tmpdir(), 'faults-models-'));
    dirs.push(dir);
    const store = new FsModelStore(dir);
    await createTestArtifact(store, { items: ITEMS, version: 'v0001', dim: 16, maxLen: 20, seed: 1 });
    return { dir, store };
  }

  it('embedding: answers 2xx or 503, ready within seconds, serves the promoted model, vectors converge to the windows', async () => {
    const { dir, store } = await modelStore();
    const env = { MODEL_STORE_DIR: dir, MODEL_NAME: MODEL };
    await runStreamScenario(infra, {
      name: 'kill-embedding',
      fault: `embedding SIGKILLed ${KILLS}× at random moments, a model promoted while it was down`,
      repetitions: pick(1, 2),
      stack: { env },
      async run(stack, { random, seed, rep }) {
        const version = `v${String(2 + rep).padStart(4, '0')}`;
        const load = await startStream(stack, seed, ['embedding']);
        let embedding = stack.member('embedding');
        const prober = new Prober(
          () => {
            const r = random();
            const item = ITEMS[Math.floor(random() * ITEMS.length)]!;
            if (r < 0.4) return { url: `${embedding.svc.url}/v1/users/${encodeURIComponent(recentUser(load, random))}/features` };
            if (r < 0.7) return { url: `${embedding.svc.url}/v1/items/${item}/vector` };
            return { url: `${embedding.svc.url}/v1/items/${item}/similar?k=5` };
          },
          { concurrency: 2, pauseMs: 10 },
        ).start();
        const promoteAt = between(random, 1, KILLS - 2);
        const report = await stack.killLoop(embedding, {
          kills: KILLS,
          random,
          minDelayMs: 0,
          maxDelayMs: 1_000,
          busyDelayMs: pick(2_000, 8_000),
          progressed: async (m: Member) => (await stack.metric(m, 'seqrec_embedding_vectors_total', { outcome: 'stored' })) > 0,
          whileDown: promoteWhileDown(stack, store, version, 2 + rep, promoteAt),
        });
        embedding = stack.member('embedding');
        await load.publish(finalRound(usersOf(load.sent), seed));
        await load.stop();
        await prober.stop();
        const expected = uniqueValid(load.sent);
        const { failures, slowest } = servingFailures('embedding', prober, report);
        const served = await waitFor('the embedding service to serve the promoted model', async () => (await stack.metric(embedding, 'seqrec_embedding_model_info', { version })) === 1, 60_000).catch(() => false);
        if (!served) failures.push(`the embedding service does not serve the promoted ${version}`);
        const vectors = await converge(stack, store, version, expected);
        failures.push(...vectors.failures);
        return {
          expected,
          faults: report.kills,
          raw: true,
          notes: [
            `${report.killedBusy}/${report.kills} kills while encoding`,
            `answers ${prober.describe()}`,
            `ready after a kill ≤ ${(slowest / 1000).toFixed(1)} s`,
            `serves ${version}: ${served ? 'yes' : 'NO'}`,
            vectors.note,
          ],
          failures,
        };
      },
    });
  });

  it('scorer: answers 2xx or 503, ready within seconds, serves the promoted model', async () => {
    const { dir, store } = await modelStore();
    const env = { MODEL_STORE_DIR: dir, MODEL_NAME: MODEL, SCORER_MODEL_POLL_SECONDS: '0' };
    await runStreamScenario(infra, {
      name: 'kill-scorer',
      fault: `scorer SIGKILLed ${KILLS}× at random moments, a model promoted while it was down`,
      repetitions: pick(1, 2),
      stack: { env },
      async run(stack, { random, seed, rep }) {
        const version = `v${String(2 + rep).padStart(4, '0')}`;
        const load = await startStream(stack, seed, ['embedding', 'scorer']);
        let scorer = stack.member('scorer');
        const versions = new Map<string, number>();
        const onBody = (b: unknown) => {
          const v = (b as { model?: { version?: string } }).model?.version ?? '?';
          versions.set(v, (versions.get(v) ?? 0) + 1);
        };
        const someUser = () => recentUser(load, random);
        const prober = new Prober(
          () => {
            if (random() < 0.6) return { url: `${scorer.svc.url}/v1/users/${encodeURIComponent(someUser())}/recommendations?k=5`, onBody };
            const items = Array.from({ length: 5 }, () => ITEMS[Math.floor(random() * ITEMS.length)]!);
            return {
              url: `${scorer.svc.url}/v1/rank`,
              init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: someUser(), items }) },
              onBody,
            };
          },
          { concurrency: 2, pauseMs: 5 },
        ).start();
        const promoteAt = between(random, 1, KILLS - 2);
        const report = await stack.killLoop(scorer, {
          kills: KILLS,
          random,
          minDelayMs: 300,
          maxDelayMs: pick(4_000, 10_000),
          progressed: async (m: Member) => (await fetch(`${m.svc.url}/v1/users/nobody/recommendations?k=1`)).status === 200,
          whileDown: promoteWhileDown(stack, store, version, 2 + rep, promoteAt),
        });
        scorer = stack.member('scorer');
        const servedVersion = await waitFor(
          'the scorer to serve the promoted model',
          async () => {
            const res = await fetch(`${scorer.svc.url}/v1/users/${encodeURIComponent(someUser())}/recommendations?k=5`);
            const body = res.status === 200 ? ((await res.json()) as { model: { version: string } }) : undefined;
            return body?.model.version === version ? version : undefined;
          },
          30_000,
        ).catch(() => undefined);
        await load.stop();
        await prober.stop();
        const { failures, slowest } = servingFailures('the scorer', prober, report);
        if (!servedVersion) failures.push(`the scorer does not serve the promoted ${version} (answers by version: ${JSON.stringify([...versions])})`);
        return {
          expected: uniqueValid(load.sent),
          faults: report.kills,
          raw: true,
          notes: [
            `answers ${prober.describe()}`,
            `by model version: ${[...versions].map(([k, v]) => `${k} ${v}`).join(', ')}`,
            `ready after a kill ≤ ${(slowest / 1000).toFixed(1)} s`,
            `serves ${version}: ${servedVersion ? 'yes' : 'NO'}`,
          ],
          failures,
        };
      },
    });
  });
});

/**
 * Waits until every user's stored vector was made by `version` from the user's current window
 * (same newest event, same length), then recomputes each window's encoding with the same artifact
 * and compares.
 */
async function converge(stack: Stack, store: FsModelStore, version: string, expected: LoadEvent[]): Promise<{ failures: string[]; note: string }> {
  const users = [...new Set(expected.map((e) => e.userId))];
  const windows = stack.windows();
  const read = async () => {
    const bufs = await windows.getMany(users);
    const vecs = await Promise.all(users.map((u) => stack.redis.getBuffer(stack.keys.userVector(u))));
    return users.map((u, i) => ({ userId: u, window: bufs[i] ? decodeWindow(bufs[i]!) : null, vector: vecs[i] ? decodeUserVector(vecs[i]!) : null }));
  };
  const isCurrent = (x: Awaited<ReturnType<typeof read>>[number]) =>
    !!x.window && !!x.vector && x.vector.version === version && x.vector.lastTs === x.window.events[x.window.events.length - 1]!.ts && x.vector.events === Math.min(255, x.window.events.length);
  let last: Awaited<ReturnType<typeof read>> = [];
  const ok = await waitFor('every user vector to be current', async () => {
    last = await read();
    return last.every(isCurrent);
  }, 120_000).catch(() => false);
  const stale = last.filter((x) => !isCurrent(x));
  const failures: string[] = [];
  if (!ok) {
    failures.push(
      `${stale.length} of ${users.length} user vectors are not ${version}'s encoding of the current window, e.g. ${stale
        .slice(0, 3)
        .map((x) => `${x.userId}: vector ${x.vector ? `${x.vector.version} lastTs ${x.vector.lastTs} events ${x.vector.events}` : 'none'}, window ${x.window ? `${x.window.events.length} events, newest ${x.window.events[x.window.events.length - 1]?.ts}` : 'none'}`)
        .join('; ')}`,
    );
  }
  // The window's encoding, recomputed here with the same artifact the service loaded.
  const model = new EmbeddingModel(await loadArtifact(store, MODEL, version));
  let worstCos = 1;
  let worstStep = 0;
  let compared = 0;
  try {
    const indices = new Set<number>();
    for (const x of last) for (const e of x.window?.events ?? []) if (e.item >= 0) indices.add(e.item);
    const idList = [...indices];
    const ids = await stack.items().idsOf(idList);
    const idOf = new Map(idList.map((ix, k) => [ix, ids[k]]));
    const rows = last.filter(isCurrent);
    for (let i = 0; i < rows.length; i += 256) {
      const chunk = rows.slice(i, i + 256);
      const hist: Int32Array[] = [];
      const types: Uint8Array[] = [];
      const keep: typeof chunk = [];
      for (const x of chunk) {
        const h: number[] = [];
        const t: number[] = [];
        for (const e of x.window!.events) {
          const id = e.item >= 0 ? idOf.get(e.item) : undefined;
          const ix = id ? model.indexOf(id) : 0;
          if (ix > 0) {
            h.push(ix);
            t.push(e.type);
          }
        }
        if (h.length === 0) continue;
        hist.push(Int32Array.from(h));
        types.push(Uint8Array.from(t));
        keep.push(x);
      }
      const enc = hist.length ? await model.encode(hist, types) : [];
      keep.forEach((x, k) => {
        const a = enc[k]!;
        const b = x.vector!.vector;
        let dot = 0;
        let na = 0;
        let nb = 0;
        let maxAbs = 0;
        let maxDiff = 0;
        for (let j = 0; j < a.length; j++) {
          dot += a[j]! * b[j]!;
          na += a[j]! ** 2;
          nb += b[j]! ** 2;
          maxAbs = Math.max(maxAbs, Math.abs(a[j]!));
          maxDiff = Math.max(maxDiff, Math.abs(a[j]! - b[j]!));
        }
        const cos = dot / Math.sqrt(na * nb || 1);
        const step = maxAbs > 0 ? maxDiff / (maxAbs / 127) : 0; // in quantisation steps
        worstCos = Math.min(worstCos, cos);
        worstStep = Math.max(worstStep, step);
        compared++;
        if ((cos < 0.999 || step > 0.6) && failures.length < 5) failures.push(`user ${x.userId}: stored vector differs from ${version}'s encoding of the window (cosine ${cos.toFixed(5)}, max error ${step.toFixed(2)} quantisation steps)`);
      });
    }
  } finally {
    model.retire();
  }
  return {
    failures,
    note: `vectors: ${users.length - stale.length}/${users.length} current, ${compared} recomputed (worst cosine ${worstCos.toFixed(5)}, max error ${worstStep.toFixed(2)} int8 steps)`,
  };
}
