/**
 * The world bench:score serves: a SASRec over the catalogue, the catalogue's categories, and each
 * bench user's live window. Two kinds:
 *
 * - `trained` (the default): the generator's shop (BENCH_ITEMS items in 400 categories, BENCH_USERS
 *   shoppers, its own transition model) streams BENCH_TRAIN_EVENTS events; SASRec is trained on every
 *   user's item sequence with the trainer's pipeline (its defaults but the loss: sampled softmax,
 *   as full softmax over 50,000 items does not fit the budget; at most BENCH_TRAIN_MINUTES) and
 *   cached in $SEQREC_CACHE/bench-score/ (keyed by every input, so a later run reuses it); each
 *   bench user's window is the last 50 events of one of those shoppers. Trained item vectors cluster
 *   by what shoppers do with them, which is what decides how much of the int8 scan's pruning and of
 *   an IVF index's recall holds in a shop (random vectors are the worst case for both).
 * - `random`: untrained weights, Zipf-distributed items, random categories (the bench before
 *   trained weights; what serving costs when nothing prunes).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadArtifact } from '@seqrec/artifacts';
import type { SequenceDataset } from '@seqrec/datasets';
import { ClickstreamGenerator } from '@seqrec/generator';
import { EVENT_TYPES } from '@seqrec/contracts';
import { createEncoder, type SequenceEncoder } from '@seqrec/model';
import { FsModelStore } from '@seqrec/model-store';
import { AliasTable, Rng } from '@seqrec/random';
import { TrainingPipeline } from '@seqrec/training';
import { envNumber, seqrecCache } from './machine';

export const CATEGORIES = 400;
const TYPE_CODE = new Map<string, number>(EVENT_TYPES.map((t, i) => [t, i]));
const SEARCH = TYPE_CODE.get('search')!;

export interface ScoreWorld {
  /** The model's items: `itemIds[i]` is model row i + 1. */
  itemIds: string[];
  /** Item i's category, 0..CATEGORIES-1. */
  categoryOf: Int32Array;
  encoder: SequenceEncoder;
  /** Per model row (row 0: padding), what the artifact's popularity holds. */
  popularity: number[];
  /** How many bench users have a window. */
  users: number;
  /**
   * User u's window, oldest first: per event the item (0-based catalogue index, −1 for a search) and
   * its type code (index in EVENT_TYPES).
   */
  window(u: number): { items: Int32Array; types: Uint8Array };
  /**
   * Drops the windows' source (the trained world holds millions of generator events): the load
   * generator shares this process, and a large old generation turns its major GCs into pauses
   * that show up as latency.
   */
  release(): void;
  /** What the result file says of the weights and the windows. */
  describe: { weights: string; windows: string; training?: Record<string, unknown> };
}

/** The world of BENCH_WEIGHTS (`trained` or `random`). */
export async function scoreWorld(o: { items: number; dim: number; users: number; log: (m: string) => void }): Promise<ScoreWorld> {
  const kind = process.env.BENCH_WEIGHTS ?? 'trained';
  if (kind === 'random') return randomWorld(o);
  if (kind === 'trained') return trainedWorld(o);
  throw new RangeError(`BENCH_WEIGHTS must be trained or random, got ${kind}`);
}

function randomWorld(o: { items: number; dim: number; users: number }): ScoreWorld {
  const encoder = createEncoder({ kind: 'sasrec', numItems: o.items, dim: o.dim, maxLen: 50, blocks: 2, heads: 1, dropout: 0, seed: 3 });
  const itemIds = Array.from({ length: o.items }, (_, i) => `item-${i}`);
  const zipf = Float64Array.from({ length: o.items }, (_, i) => 1 / Math.pow(i + 1, 0.9));
  const crng = new Rng(5);
  const categoryOf = Int32Array.from({ length: o.items }, () => crng.int(CATEGORIES));
  const byZipf = new AliasTable(zipf);
  return {
    itemIds,
    categoryOf,
    encoder,
    popularity: [0, ...zipf],
    users: o.users,
    window(u) {
      // every user's own stream, so a window does not depend on which users came before it
      const rng = new Rng(11 * 1_000_003 + u);
      const n = 20 + rng.int(31);
      const items = new Int32Array(n);
      const types = new Uint8Array(n);
      for (let e = 0; e < n; e++) {
        items[e] = byZipf.sample(rng);
        types[e] = rng.float() < 0.05 ? 4 : rng.float() < 0.3 ? 1 : 0;
      }
      return { items, types };
    },
    release() {},
    describe: { weights: 'random (untrained)', windows: '20-50 events per user, Zipf-distributed items (exponent 0.9)' },
  };
}

async function trainedWorld(o: { items: number; dim: number; users: number; log: (m: string) => void }): Promise<ScoreWorld> {
  const events = envNumber('BENCH_TRAIN_EVENTS', 4_000_000);
  const minutes = envNumber('BENCH_TRAIN_MINUTES', 10);
  const seed = envNumber('BENCH_TRAIN_SEED', 7);
  const gen = new ClickstreamGenerator({ seed, users: o.users, items: o.items, categories: CATEGORIES });
  const cat = gen.catalogue;
  const index = new Map(cat.itemIds.map((id, i) => [id, i]));
  // every shopper's stream, packed as item * 8 + type (item + 1, so a search's −1 packs as 0)
  const streams = new Map<string, number[]>();
  for (let n = 0; n < events; n++) {
    const e = gen.next();
    const user = e.userId ?? e.sessionId!;
    let s = streams.get(user);
    if (!s) streams.set(user, (s = []));
    const item = e.itemId === undefined ? -1 : index.get(e.itemId)!;
    s.push((item + 1) * 8 + TYPE_CODE.get(e.type)!);
  }
  const users = [...streams.keys()].filter((u) => streams.get(u)!.some((p) => p % 8 !== SEARCH));
  o.log(`generator: ${events} events, ${users.length} shoppers with items, ${o.items} items in ${CATEGORIES} categories`);

  const key = `sasrec-i${o.items}-d${o.dim}-u${o.users}-e${events}-m${minutes}-s${seed}`;
  const cacheDir = join(seqrecCache(), 'bench-score', key);
  const doneFile = join(cacheDir, 'bench-training.json');
  if (!existsSync(doneFile)) {
    rmSync(cacheDir, { recursive: true, force: true });
    mkdirSync(cacheDir, { recursive: true });
    // the training data: each shopper's items, a repeat of the previous item (view → click → cart) once
    const sequences: Int32Array[] = [];
    for (const u of users) {
      const seq: number[] = [];
      for (const p of streams.get(u)!) {
        const item = Math.floor(p / 8);
        if (item > 0 && seq[seq.length - 1] !== item) seq.push(item);
      }
      sequences.push(Int32Array.from(seq));
    }
    const dataset: SequenceDataset = { name: `generator-${key}`, numItems: o.items, itemIds: ['', ...cat.itemIds], users, sequences };
    o.log(`training SASRec (d=${o.dim}, sampled softmax, at most ${minutes} min) into ${cacheDir}`);
    const t0 = performance.now();
    const result = await new TrainingPipeline(new FsModelStore(cacheDir)).run({
      source: { kind: 'dataset', dataset },
      model: 'sasrec',
      options: { seed, dim: o.dim, maxMinutes: minutes, loss: 'sampled-softmax' },
      promote: 'always',
      progress: false,
      log: (m) => o.log(`trainer: ${m}`),
    });
    const summary = {
      version: result.version,
      data: `${events} generator events (seed ${seed}): ${result.dataset.users} shoppers, ${result.dataset.interactions} item interactions`,
      trainedAt: new Date().toISOString(),
      seconds: +((performance.now() - t0) / 1000).toFixed(1),
      metrics: Object.fromEntries(Object.entries(result.metrics).filter(([k]) => /ndcg@10|hr@10/i.test(k))),
    };
    writeFileSync(doneFile, JSON.stringify(summary, null, 2));
  }
  const training = JSON.parse(readFileSync(doneFile, 'utf8')) as { version: string } & Record<string, unknown>;
  o.log(`trained model ${training.version} (cached in ${cacheDir}): ${JSON.stringify(training)}`);
  const artifact = await loadArtifact(new FsModelStore(cacheDir), 'sasrec', training.version);
  const encoder = artifact.encoder!;
  for (let i = 0; i < cat.itemIds.length; i += 997) {
    if (artifact.index.get(cat.itemIds[i]!) !== i + 1) throw new Error(`the cached model's vocabulary does not number ${cat.itemIds[i]} as ${i + 1}`);
  }
  return {
    itemIds: [...cat.itemIds],
    categoryOf: Int32Array.from(cat.categoryOf),
    encoder,
    popularity: Array.from(artifact.popularity),
    users: Math.min(o.users, users.length),
    window(u) {
      const s = streams.get(users[u]!)!.slice(-50);
      return { items: Int32Array.from(s, (p) => Math.floor(p / 8) - 1), types: Uint8Array.from(s, (p) => p % 8) };
    },
    release() {
      streams.clear();
      users.length = 0;
    },
    describe: {
      weights: 'trained (SASRec on the generator shop, cached)',
      windows: `each user's last 50 events (searches included) of the generator stream the model was trained on`,
      training,
    },
  };
}
