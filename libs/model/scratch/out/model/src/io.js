"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.MODEL_FORMAT = void 0;
exports.saveModel = saveModel;
exports.readModelInfo = readModelInfo;
exports.loadModel = loadModel;
/**
 * Saving and loading models as a folder:
 * - `model.json`: the LayersModel topology and weights manifest (TF.js layers format);
 * - `weights.bin`: the weights, little-endian float32 as TF.js writes them;
 * - `config.json`: the {@link EncoderConfig} plus caller metadata (dataset, metrics, ...).
 * A custom IO handler writes them, so this works on every backend (not only tfjs-node's `file://`).
 * The custom layer classes register themselves when this library is imported.
 */
const promises_1 = require("node:fs/promises");
const node_path_1 = require("node:path");
const config_1 = require("./config");
const encoder_1 = require("./encoder");
const tf_1 = require("./tf");
exports.MODEL_FORMAT = 'seqrec-model/1';
async function writeAtomic(path, data) {
    const tmp = `${path}.tmp-${process.pid}`;
    await (0, promises_1.writeFile)(tmp, data);
    await (0, promises_1.rename)(tmp, path);
}
function joinWeights(data) {
    if (!data)
        return new Uint8Array(0);
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
async function saveModel(encoder, dir, metadata = {}) {
    await (0, promises_1.mkdir)(dir, { recursive: true });
    await encoder.model.save(tf_1.tf.io.withSaveHandler(async (artifacts) => {
        const weights = joinWeights(artifacts.weightData);
        const modelJson = {
            format: artifacts.format ?? 'layers-model',
            generatedBy: artifacts.generatedBy,
            convertedBy: artifacts.convertedBy ?? null,
            modelTopology: artifacts.modelTopology,
            weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
        };
        await writeAtomic((0, node_path_1.join)(dir, 'weights.bin'), weights);
        await writeAtomic((0, node_path_1.join)(dir, 'model.json'), JSON.stringify(modelJson));
        return {
            modelArtifactsInfo: {
                dateSaved: new Date(),
                modelTopologyType: 'JSON',
                weightDataBytes: weights.byteLength,
            },
        };
    }));
    const info = {
        format: exports.MODEL_FORMAT,
        config: { ...encoder.config },
        metadata,
        savedAt: new Date().toISOString(),
        tfjsVersion: tf_1.tf.version_core,
    };
    await writeAtomic((0, node_path_1.join)(dir, 'config.json'), JSON.stringify(info, null, 2));
}
/** Reads `config.json` of a saved model. */
async function readModelInfo(dir) {
    const info = JSON.parse(await (0, promises_1.readFile)((0, node_path_1.join)(dir, 'config.json'), 'utf8'));
    if (info.format !== exports.MODEL_FORMAT)
        throw new Error(`${dir}/config.json: format "${String(info.format)}", expected "${exports.MODEL_FORMAT}"`);
    (0, config_1.validateConfig)(info.config);
    return info;
}
/** Loads a model saved by {@link saveModel}; it scores identically on the same backend. */
async function loadModel(dir) {
    const info = await readModelInfo(dir);
    const modelJson = JSON.parse(await (0, promises_1.readFile)((0, node_path_1.join)(dir, 'model.json'), 'utf8'));
    const specs = [];
    const buffers = [];
    for (const group of modelJson.weightsManifest) {
        specs.push(...group.weights);
        for (const p of group.paths)
            buffers.push(await (0, promises_1.readFile)((0, node_path_1.join)(dir, p)));
    }
    const weights = joinWeights(buffers.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)));
    const handler = {
        load: async () => ({
            modelTopology: modelJson.modelTopology,
            weightSpecs: specs,
            weightData: weights.buffer,
            ...(modelJson.format ? { format: modelJson.format } : {}),
        }),
    };
    const model = await tf_1.tf.loadLayersModel(handler);
    return new encoder_1.LayersSequenceEncoder(info.config, model);
}
//# sourceMappingURL=io.js.map