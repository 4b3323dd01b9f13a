/**
 * The contract between the trainer (writes) and the embedding service and scorer (read): a servable
 * model artifact in the {@link ModelStore}, the item vocabulary (`vocabulary.json`: external item id
 * per model index, index 0 = padding) and item popularity on the training data (`popularity.json`:
 * count per model index, the fallback for users with no usable history), plus the model itself,
 * one of two kinds:
 * - `encoder`: a TF.js sequence encoder (`model.json`, `weights.bin`, `config.json`): SASRec,
 *   GRU4Rec, LSTM, item2vec;
 * - `graph`: a neighbourhood model's item graph (`graph.json`, `graph.bin`): item-KNN,
 *   co-occurrence, popularity (a graph with no edges).
 * An encoder artifact may also carry a content map (`content-map.json`, {@link ContentMap}): item
 * content → the item table's space, fitted on the items the model knows, which gives catalogue
 * items the model never saw a vector. Artifacts written without it load with `contentMap: null`.
 * Other trained models (BPR-MF: per-user factors of training users only) are evaluation-only:
 * their folders have neither and {@link loadArtifact} refuses them, naming the model kind.
 */
import { access, readFile, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import type { GraphModel, GraphRule } from '@seqrec/datasets';
import { ContentMap, loadModel, saveModel, type ContentMapJson, type SequenceEncoder } from '@seqrec/model';
import type { ArtifactManifest, ModelStore } from '@seqrec/model-store';
import { GraphScorer } from './graph-scorer';

export type ServingArtifact = EncoderArtifact | GraphArtifact;

export interface EncoderArtifact extends ArtifactCommon {
  kind: 'encoder';
  encoder: SequenceEncoder;
  graph?: undefined;
  /** Item content → item-table space (`content-map.json`); null when the artifact has none. */
  contentMap?: ContentMap | null;
}

export interface GraphArtifact extends ArtifactCommon {
  kind: 'graph';
  graph: GraphScorer;
  encoder?: undefined;
  contentMap?: undefined;
}

interface ArtifactCommon {
  manifest: ArtifactManifest;
  /** External item id per model index; `vocabulary[0]` is '' (padding). */
  vocabulary: string[];
  /** Model index of an external item id. */
  index: ReadonlyMap<string, number>;
  /** Training-data count per model index. */
  popularity: Float32Array;
  /** Model indices by popularity, most popular first (padding excluded). */
  popularOrder: Int32Array;
}

export interface SaveArtifactInput {
  manifest: ArtifactManifest;
  encoder: SequenceEncoder;
  vocabulary: readonly string[];
  popularity: ArrayLike<number>;
  /** The content map fitted on the model's item table, if any (`content-map.json`). */
  contentMap?: ContentMap | null;
  /** Extra files written next to the model (e.g. `report.html`, `metrics.json`). */
  extraFiles?: Record<string, string>;
}

/** Where an encoder's content map goes. */
const CONTENT_MAP_JSON = 'content-map.json';

/** Where a neighbourhood model's graph goes: `graph.json` (rule, sizes) and `graph.bin` (the arrays). */
const GRAPH_JSON = 'graph.json';
const GRAPH_BIN = 'graph.bin';

interface GraphHeader {
  format: 1;
  rule: GraphRule;
  numItems: number;
  edges: number;
  /** `graph.bin` layout, in order: offsets int32[numItems + 2], neighbours int32[edges], weights float32[edges], prior float32[numItems + 1]; little-endian. */
  layout: string;
}

export interface SaveGraphArtifactInput {
  manifest: ArtifactManifest;
  model: GraphModel;
  vocabulary: readonly string[];
  popularity: ArrayLike<number>;
  extraFiles?: Record<string, string>;
}

/** Publishes a neighbourhood model (item-KNN, co-occurrence, popularity) as a servable `graph` artifact. */
export async function saveGraphArtifact(store: ModelStore, input: SaveGraphArtifactInput): Promise<string> {
  const { graph, rule, prior } = input.model;
  const n = graph.numItems + 1;
  checkItemFiles(input, n, 'graph');
  if (prior.length !== n) throw new RangeError(`prior has ${prior.length} entries, the graph ${n}`);
  assertLittleEndian();
  const header: GraphHeader = { format: 1, rule, numItems: graph.numItems, edges: graph.neighbours.length, layout: 'offsets int32[numItems + 2], neighbours int32[edges], weights float32[edges], prior float32[numItems + 1]; little-endian' };
  const bin = Buffer.concat([graph.offsets, graph.neighbours, graph.weights, prior].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
  return store.publish(input.manifest, async (dir) => {
    await writeFile(join(dir, GRAPH_JSON), `${JSON.stringify(header, null, 2)}\n`);
    await writeFile(join(dir, GRAPH_BIN), bin);
    await writeItemFiles(dir, input);
  });
}

export async function saveArtifact(store: ModelStore, input: SaveArtifactInput): Promise<string> {
  checkItemFiles(input, input.encoder.config.numItems + 1, 'model');
  const map = input.contentMap;
  if (map && map.dim !== input.encoder.config.dim) throw new RangeError(`content map has ${map.dim} dimensions, the model ${input.encoder.config.dim}`);
  return store.publish(input.manifest, async (dir) => {
    await saveModel(input.encoder, dir, { model: input.manifest.model, version: input.manifest.version });
    await writeItemFiles(dir, input);
    if (map) await writeFile(join(dir, CONTENT_MAP_JSON), JSON.stringify(map.toJSON()));
  });
}

type ItemFiles = Pick<SaveArtifactInput, 'vocabulary' | 'popularity' | 'extraFiles'>;

/** Vocabulary and popularity must cover the model's items plus padding (`n` entries). */
function checkItemFiles(input: ItemFiles, n: number, what: 'model' | 'graph'): void {
  if (input.vocabulary.length !== n) throw new RangeError(`vocabulary has ${input.vocabulary.length} entries, the ${what} ${n} (numItems + padding)`);
  if (input.popularity.length !== n) throw new RangeError(`popularity has ${input.popularity.length} entries, the ${what} ${n}`);
}

/** The files every artifact kind has beside its model: vocabulary, popularity, and the extras. */
async function writeItemFiles(dir: string, input: ItemFiles): Promise<void> {
  await writeFile(join(dir, 'vocabulary.json'), JSON.stringify(input.vocabulary));
  await writeFile(join(dir, 'popularity.json'), JSON.stringify(Array.from(input.popularity)));
  for (const [name, content] of Object.entries(input.extraFiles ?? {})) await writeFile(join(dir, name), content);
}

/**
 * Loads a servable artifact (either kind); the caller owns it and disposes an encoder's tensors
 * when done. Refuses, naming the model kind, a folder that holds neither an encoder nor a graph.
 */
export async function loadArtifact(store: ModelStore, model: string, version: string): Promise<ServingArtifact> {
  const dir = store.location(model, version);
  const manifest = await store.manifest(model, version);
  const vocabulary = JSON.parse(await readFile(join(dir, 'vocabulary.json'), 'utf8')) as string[];
  const counts = JSON.parse(await readFile(join(dir, 'popularity.json'), 'utf8')) as number[];
  const popularity = Float32Array.from(counts);
  const order = Array.from({ length: vocabulary.length - 1 }, (_, i) => i + 1).sort((a, b) => popularity[b]! - popularity[a]! || a - b);
  const common = {
    manifest,
    vocabulary,
    index: new Map(vocabulary.map((id, i) => [id, i] as const).filter(([, i]) => i > 0)),
    popularity,
    popularOrder: Int32Array.from(order),
  };
  if (await exists(join(dir, GRAPH_JSON))) {
    const graph = await loadGraph(dir);
    if (vocabulary.length !== graph.numItems + 1) throw new Error(`${dir}: vocabulary has ${vocabulary.length} entries, the graph ${graph.numItems + 1}`);
    return { kind: 'graph', graph, ...common };
  }
  if (!(await exists(join(dir, 'model.json')))) {
    const kind = (manifest.details?.['kind'] as string | undefined) ?? manifest.model;
    throw new Error(`${model}@${version} is not servable: a ${kind} artifact has neither an encoder (model.json) nor an item graph (${GRAPH_JSON}); it is for evaluation only`);
  }
  const encoder = await loadModel(dir);
  if (vocabulary.length !== encoder.config.numItems + 1) {
    encoder.dispose();
    throw new Error(`${dir}: vocabulary has ${vocabulary.length} entries, the model ${encoder.config.numItems + 1}`);
  }
  let contentMap: ContentMap | null = null;
  if (await exists(join(dir, CONTENT_MAP_JSON))) {
    try {
      contentMap = ContentMap.fromJSON(JSON.parse(await readFile(join(dir, CONTENT_MAP_JSON), 'utf8')) as ContentMapJson);
      if (contentMap.dim !== encoder.config.dim) throw new RangeError(`${contentMap.dim} dimensions, the model ${encoder.config.dim}`);
    } catch (err) {
      encoder.dispose();
      throw new Error(`${join(dir, CONTENT_MAP_JSON)}: ${(err as Error).message}`);
    }
  }
  return { kind: 'encoder', encoder, contentMap, ...common };
}

async function loadGraph(dir: string): Promise<GraphScorer> {
  assertLittleEndian();
  const header = JSON.parse(await readFile(join(dir, GRAPH_JSON), 'utf8')) as GraphHeader;
  const bad = (why: string) => new Error(`${join(dir, GRAPH_BIN)}: ${why}`);
  if (header.format !== 1) throw bad(`unknown graph format ${String(header.format)}`);
  if (!['cooc', 'itemknn', 'pop'].includes(header.rule?.kind)) throw bad(`unknown scoring rule ${JSON.stringify(header.rule)}`);
  const { numItems: n, edges: e } = header;
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(e) || e < 0) throw bad(`bad sizes numItems=${n} edges=${e}`);
  const buf = await readFile(join(dir, GRAPH_BIN));
  const expected = 4 * (n + 2 + e + e + n + 1);
  if (buf.byteLength !== expected) throw bad(`${buf.byteLength} bytes, expected ${expected} for ${n} items and ${e} edges`);
  // Copy into an aligned buffer (readFile's may start at any offset of a shared pool).
  const ab = new Uint8Array(buf).buffer;
  let at = 0;
  const take = <T>(make: (b: ArrayBuffer, o: number, l: number) => T, len: number): T => {
    const v = make(ab, at, len);
    at += 4 * len;
    return v;
  };
  const offsets = take((b, o, l) => new Int32Array(b, o, l), n + 2);
  const neighbours = take((b, o, l) => new Int32Array(b, o, l), e);
  const weights = take((b, o, l) => new Float32Array(b, o, l), e);
  const prior = take((b, o, l) => new Float32Array(b, o, l), n + 1);
  if (offsets[0] !== 0 || offsets[n + 1] !== e) throw bad('offsets do not span the edges');
  for (let i = 1; i < n + 2; i++) if (offsets[i]! < offsets[i - 1]!) throw bad(`offsets decrease at item ${i}`);
  for (let p = 0; p < e; p++) {
    if (!(neighbours[p]! >= 1 && neighbours[p]! <= n)) throw bad(`edge ${p} points at item ${neighbours[p]} outside 1..${n}`);
    if (!Number.isFinite(weights[p]!)) throw bad(`edge ${p} has weight ${weights[p]}`);
  }
  for (let i = 0; i <= n; i++) if (!Number.isFinite(prior[i]!)) throw bad(`prior of item ${i} is ${prior[i]}`);
  return new GraphScorer({ graph: { numItems: n, offsets, neighbours, weights }, rule: header.rule, prior });
}

function assertLittleEndian(): void {
  if (endianness() !== 'LE') throw new Error('graph artifacts are little-endian; this machine is big-endian');
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
