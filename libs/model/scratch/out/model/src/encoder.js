"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.LayersSequenceEncoder = exports.ITEM_EMBEDDING_LAYER = void 0;
exports.buildModel = buildModel;
exports.createEncoder = createEncoder;
const batches_1 = require("./batches");
const config_1 = require("./config");
const attention_1 = require("./layers/attention");
const item_embedding_1 = require("./layers/item-embedding");
const layer_norm_1 = require("./layers/layer-norm");
const pooling_1 = require("./layers/pooling");
const recurrent_1 = require("./layers/recurrent");
const ops_1 = require("./ops");
const tf_1 = require("./tf");
/** Name of the embedding layer in every model; it owns the item table. */
exports.ITEM_EMBEDDING_LAYER = 'item_embedding';
function buildSasrec(cfg, ids, types) {
    const emb = new item_embedding_1.ItemEmbedding({
        name: exports.ITEM_EMBEDDING_LAYER,
        numItems: cfg.numItems,
        dim: cfg.dim,
        maxLen: cfg.maxLen,
        positional: true,
        numTypes: cfg.numTypes,
        scale: true,
        dropout: cfg.dropout,
        seed: cfg.seed,
    }).apply(types ? [ids, types] : ids);
    const mask = new item_embedding_1.PaddingMask({ name: 'padding_mask' }).apply(ids);
    let x = emb;
    for (let b = 0; b < cfg.blocks; b++) {
        const seed = cfg.seed + 100 * (b + 1);
        const h = new layer_norm_1.LayerNorm({ name: `block${b}_ln_attention`, epsilon: cfg.layerNormEps }).apply(x);
        const a = new attention_1.CausalSelfAttention({ name: `block${b}_attention`, dim: cfg.dim, heads: cfg.heads, dropout: cfg.dropout, seed })
            .apply([h, mask]);
        x = tf_1.tf.layers.add({ name: `block${b}_residual_attention` }).apply([x, a]);
        const h2 = new layer_norm_1.LayerNorm({ name: `block${b}_ln_ffn`, epsilon: cfg.layerNormEps }).apply(x);
        const f = new attention_1.FeedForward({ name: `block${b}_ffn`, dim: cfg.dim, innerDim: cfg.innerDim, dropout: cfg.dropout, seed: seed + 10 })
            .apply(h2);
        x = tf_1.tf.layers.add({ name: `block${b}_residual_ffn` }).apply([x, f]);
        x = new item_embedding_1.ApplyMask({ name: `block${b}_mask` }).apply([x, mask]);
    }
    return new layer_norm_1.LayerNorm({ name: 'final_ln', epsilon: cfg.layerNormEps }).apply(x);
}
function buildRnn(cfg, ids, types) {
    const emb = new item_embedding_1.ItemEmbedding({
        name: exports.ITEM_EMBEDDING_LAYER,
        numItems: cfg.numItems,
        dim: cfg.dim,
        maxLen: cfg.maxLen,
        numTypes: cfg.numTypes,
        dropout: cfg.dropout,
        seed: cfg.seed,
    }).apply(types ? [ids, types] : ids);
    const mask = new item_embedding_1.PaddingMask({ name: 'padding_mask' }).apply(ids);
    let x = new recurrent_1.Recurrent({
        name: cfg.kind === 'lstm' ? 'lstm' : 'gru',
        cell: cfg.kind === 'lstm' ? 'lstm' : 'gru',
        inputDim: cfg.dim,
        units: cfg.units,
        dropout: cfg.dropout,
        seed: cfg.seed + 100,
    }).apply([emb, mask]);
    if (cfg.units !== cfg.dim) {
        x = new recurrent_1.Projection({ name: 'projection', inputDim: cfg.units, units: cfg.dim, seed: cfg.seed + 200 }).apply(x);
    }
    return x;
}
function buildItem2Vec(cfg, ids, types) {
    const emb = new item_embedding_1.ItemEmbedding({
        name: exports.ITEM_EMBEDDING_LAYER,
        numItems: cfg.numItems,
        dim: cfg.dim,
        maxLen: cfg.maxLen,
        numTypes: cfg.numTypes,
        seed: cfg.seed,
    }).apply(types ? [ids, types] : ids);
    const mask = new item_embedding_1.PaddingMask({ name: 'padding_mask' }).apply(ids);
    return new pooling_1.RecencyPool({ name: 'recency_pool', decay: cfg.decay, normalize: cfg.similarity === 'cosine' }).apply([
        emb,
        mask,
    ]);
}
/** Builds the LayersModel for a config (fresh, seeded weights). */
function buildModel(cfg) {
    const ids = tf_1.tf.input({ shape: [null], dtype: 'int32', name: 'items' });
    const types = cfg.numTypes > 0 ? tf_1.tf.input({ shape: [null], dtype: 'int32', name: 'event_types' }) : null;
    let out;
    switch (cfg.kind) {
        case 'sasrec':
            out = buildSasrec(cfg, ids, types);
            break;
        case 'gru4rec':
        case 'lstm':
            out = buildRnn(cfg, ids, types);
            break;
        case 'item2vec':
            out = buildItem2Vec(cfg, ids, types);
            break;
    }
    return tf_1.tf.model({ inputs: types ? [ids, types] : [ids], outputs: out, name: cfg.kind });
}
/** Creates a fresh model for a (partial) config. */
function createEncoder(config) {
    const cfg = (0, config_1.resolveConfig)(config);
    return new LayersSequenceEncoder(cfg, buildModel(cfg));
}
/** Histories per encode/score call on the accelerator; bounds the [chunk, N + 1] score matrix. */
const SCORE_CHUNK = 256;
/** {@link SequenceEncoder} over a TF.js LayersModel built by {@link buildModel} (or loaded). */
class LayersSequenceEncoder {
    config;
    model;
    name;
    perPosition;
    embedding;
    /** [d, N + 1] scoring matrix (normalised rows for cosine item2vec), built lazily. */
    itemsT = null;
    /** [N + 1, d] scoring rows, only when they differ from the item table (cosine). */
    scoringRows = null;
    /** [1, N + 1]: -Infinity at column 0 (padding), 0 elsewhere. */
    paddingBias = null;
    constructor(config, model) {
        this.config = config;
        this.model = model;
        this.name = config.kind;
        this.perPosition = config.kind !== 'item2vec';
        const layer = model.getLayer(exports.ITEM_EMBEDDING_LAYER);
        if (!(layer instanceof item_embedding_1.ItemEmbedding))
            throw new Error(`model has no ${exports.ITEM_EMBEDDING_LAYER} layer of class ItemEmbedding`);
        this.embedding = layer;
        const inputs = model.inputs.length;
        if (inputs !== (config.numTypes > 0 ? 2 : 1)) {
            throw new Error(`model has ${inputs} inputs but config.numTypes = ${config.numTypes}`);
        }
    }
    apply(ids, types, training) {
        if (this.config.numTypes > 0 && !types)
            throw new Error(`${this.name}: this model needs event types`);
        const inputs = this.config.numTypes > 0 ? [ids, types] : [ids];
        return this.model.apply(inputs, { training });
    }
    hiddenStates(ids, types, training) {
        if (!this.perPosition)
            throw new Error(`${this.name} has no per-position hidden states`);
        return this.apply(ids, types, training);
    }
    encodeIds(ids, types) {
        return tf_1.tf.tidy(() => {
            const out = this.apply(ids, types, false);
            if (!this.perPosition)
                return out;
            const [b, l, d] = out.shape;
            return tf_1.tf.reshape(tf_1.tf.slice(out, [0, l - 1, 0], [b, 1, d]), [b, d]);
        });
    }
    padded(histories, types) {
        if (this.config.numTypes > 0 && !types)
            throw new Error(`${this.name}: this model needs event types`);
        const p = (0, batches_1.leftPad)(histories, (0, batches_1.batchWidth)(histories, this.config.maxLen), this.config.numTypes > 0 ? types : undefined);
        return {
            ids: tf_1.tf.tensor2d(p.ids, [p.rows, p.len], 'int32'),
            types: p.types ? tf_1.tf.tensor2d(p.types, [p.rows, p.len], 'int32') : null,
        };
    }
    encode(histories, types) {
        return tf_1.tf.tidy(() => {
            const p = this.padded(histories, types);
            return this.encodeIds(p.ids, p.types);
        });
    }
    itemTable() {
        return this.embedding.itemTable();
    }
    servingTensors() {
        if (!this.itemsT) {
            const cosine = this.config.kind === 'item2vec' && this.config.similarity === 'cosine';
            this.scoringRows = cosine
                ? tf_1.tf.tidy(() => {
                    const t = this.itemTable();
                    return tf_1.tf.div(t, tf_1.tf.add(tf_1.tf.norm(t, 'euclidean', 1, true), 1e-12));
                })
                : null;
            const rows = this.scoringRows ?? this.itemTable();
            this.itemsT = tf_1.tf.tidy(() => tf_1.tf.transpose(rows));
            const bias = new Float32Array(this.config.numItems + 1);
            bias[0] = -Infinity;
            this.paddingBias = tf_1.tf.tensor2d(bias, [1, bias.length]);
        }
        return { itemsT: this.itemsT, rows: this.scoringRows ?? this.itemTable(), bias: this.paddingBias };
    }
    /** Scores [B, N + 1] of a chunk, padding column at -Infinity. Caller disposes. */
    scoreChunk(histories, types) {
        const { itemsT, bias } = this.servingTensors();
        return tf_1.tf.tidy(() => tf_1.tf.add((0, ops_1.mm)(this.encode(histories, types), itemsT), bias));
    }
    async scoreBatch(histories, types) {
        const width = this.config.numItems + 1;
        const out = new Float32Array(histories.length * width);
        for (let i = 0; i < histories.length; i += SCORE_CHUNK) {
            const s = this.scoreChunk(histories.slice(i, i + SCORE_CHUNK), types?.slice(i, i + SCORE_CHUNK));
            const data = (await s.data());
            s.dispose();
            out.set(data, i * width);
        }
        return out;
    }
    async topK(histories, k, opts = {}) {
        if (!Number.isInteger(k) || k < 1)
            throw new RangeError(`k must be a positive integer, got ${k}`);
        const n = this.config.numItems;
        const results = [];
        for (let i = 0; i < histories.length; i += SCORE_CHUNK) {
            const chunk = histories.slice(i, i + SCORE_CHUNK);
            const excl = chunk.map((h, j) => {
                const s = new Set();
                const e = opts.exclude?.[i + j];
                if (e)
                    for (let q = 0; q < e.length; q++)
                        s.add(e[q]);
                if (opts.excludeHistory)
                    for (const it of h)
                        s.add(it);
                return s;
            });
            const maxExcl = excl.reduce((m, s) => Math.max(m, s.size), 0);
            const kk = Math.min(n + 1, k + maxExcl + 1);
            const scores = this.scoreChunk(chunk, opts.types?.slice(i, i + SCORE_CHUNK));
            const top = tf_1.tf.topk(scores, kk, true);
            scores.dispose();
            const [vals, idx] = await Promise.all([top.values.data(), top.indices.data()]);
            top.values.dispose();
            top.indices.dispose();
            for (let j = 0; j < chunk.length; j++) {
                const items = [];
                const sc = [];
                for (let q = j * kk; q < (j + 1) * kk && items.length < k; q++) {
                    const it = idx[q];
                    if (it === 0 || excl[j].has(it))
                        continue;
                    items.push(it);
                    sc.push(vals[q]);
                }
                results.push({ items: Int32Array.from(items), scores: Float32Array.from(sc) });
            }
        }
        return results;
    }
    async scoreItems(histories, candidates, types) {
        if (candidates.length !== histories.length) {
            throw new RangeError(`scoreItems: ${histories.length} histories but ${candidates.length} candidate lists`);
        }
        const n = this.config.numItems;
        const out = [];
        for (let i = 0; i < histories.length; i += SCORE_CHUNK) {
            const hs = histories.slice(i, i + SCORE_CHUNK);
            const cs = candidates.slice(i, i + SCORE_CHUNK);
            const width = Math.max(1, ...cs.map((c) => c.length));
            const flat = new Int32Array(cs.length * width);
            cs.forEach((c, j) => {
                for (let q = 0; q < c.length; q++) {
                    const it = c[q];
                    if (!Number.isInteger(it) || it < 0 || it > n)
                        throw new RangeError(`scoreItems: candidate ${it} outside 0..${n}`);
                    flat[j * width + q] = it;
                }
            });
            const { rows } = this.servingTensors();
            const s = tf_1.tf.tidy(() => {
                const u = this.encode(hs, types?.slice(i, i + SCORE_CHUNK)); // [B, d]
                const cand = tf_1.tf.gather(rows, tf_1.tf.tensor2d(flat, [cs.length, width], 'int32')); // [B, C, d]
                return tf_1.tf.sum(tf_1.tf.mul(cand, tf_1.tf.expandDims(u, 1)), 2);
            });
            const data = (await s.data());
            s.dispose();
            cs.forEach((c, j) => out.push(data.slice(j * width, j * width + c.length)));
        }
        return out;
    }
    invalidate() {
        this.itemsT?.dispose();
        this.scoringRows?.dispose();
        this.paddingBias?.dispose();
        this.itemsT = this.scoringRows = this.paddingBias = null;
    }
    dispose() {
        this.invalidate();
        this.model.dispose();
    }
}
exports.LayersSequenceEncoder = LayersSequenceEncoder;
//# sourceMappingURL=encoder.js.map