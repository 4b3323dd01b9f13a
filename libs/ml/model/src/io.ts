/**
 * Saving and loading models as a folder:
 * - `model.json`: the LayersModel topology and weights manifest (TF.js layers format);
 * - `weights.bin`: the weights, little-endian float32 as TF.js writes them;
 * - `config.json`: the {@link EncoderConfig} plus caller metadata (dataset, metrics, ...).
 * A custom IO handler writes them, so this works on every backend (not only tfjs-node's `file://`).
 * The custom layer classes register themselves when this library is imported.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { io } from '@tensorflow/tfjs';
import { upgradeConfig, validateConfig, type EncoderConfig } from './config';
import { LayersSequenceEncoder, type SequenceEncoder } from './encoder';
import { tf } from './tf';

export const MODEL_FORMAT = 'seqrec-model/1';

/** Contents of `config.json`. */
export interface SavedModelInfo {
  format: typeof MODEL_FORMAT;
  config: EncoderConfig;
  /** Anything the caller wants to keep with the model (dataset name, metrics, training report). */
  metadata: Record<string, unknown>;
  savedAt: string;
  tfjsVersion: string;
}

async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

function joinWeights(data: io.WeightData | undefined): Uint8Array {
  if (!data) return new Uint8Array(0);
  const parts = Array.isArray(data) ? data : [data];
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), off);
    off += p.byteLength;
  }
  return out;
}

/** Writes `model.json`, `weights.bin` and `config.json` into `dir` (created if missing). */
export async function saveModel(encoder: SequenceEncoder, dir: string, metadata: Record<string, unknown> = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  await encoder.model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = joinWeights(artifacts.weightData);
      const modelJson = {
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      await writeAtomic(join(dir, 'weights.bin'), weights);
      await writeAtomic(join(dir, 'model.json'), JSON.stringify(modelJson));
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          weightDataBytes: weights.byteLength,
        },
      };
    }),
  );
  const info: SavedModelInfo = {
    format: MODEL_FORMAT,
    config: { ...encoder.config },
    metadata,
    savedAt: new Date().toISOString(),
    tfjsVersion: tf.version_core,
  };
  await writeAtomic(join(dir, 'config.json'), JSON.stringify(info, null, 2));
}

/** Reads `config.json` of a saved model. */
export async function readModelInfo(dir: string): Promise<SavedModelInfo> {
  const info = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as SavedModelInfo;
  if (info.format !== MODEL_FORMAT) throw new Error(`${dir}/config.json: format "${String(info.format)}", expected "${MODEL_FORMAT}"`);
  info.config = upgradeConfig(info.config);
  validateConfig(info.config);
  return info;
}

/** Loads a model saved by {@link saveModel}; it scores identically on the same backend. */
export async function loadModel(dir: string): Promise<LayersSequenceEncoder> {
  const info = await readModelInfo(dir);
  const modelJson = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as {
    modelTopology: object;
    format?: string;
    generatedBy?: string;
    convertedBy?: string | null;
    weightsManifest: { paths: string[]; weights: io.WeightsManifestEntry[] }[];
  };
  const specs: io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const group of modelJson.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) buffers.push(await readFile(join(dir, p)));
  }
  const weights = joinWeights(buffers.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer));
  const handler: io.IOHandler = {
    load: async () => ({
      modelTopology: modelJson.modelTopology,
      weightSpecs: specs,
      weightData: weights.buffer as ArrayBuffer,
      ...(modelJson.format ? { format: modelJson.format } : {}),
    }),
  };
  const model = await tf.loadLayersModel(handler);
  return new LayersSequenceEncoder(info.config, model);
}
