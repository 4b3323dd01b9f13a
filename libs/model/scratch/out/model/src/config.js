"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.DEFAULT_NUM_TYPES = exports.MODEL_KINDS = void 0;
exports.resolveConfig = resolveConfig;
exports.validateConfig = validateConfig;
/**
 * Model configurations. A config fully determines the architecture (it is saved as `config.json`
 * next to the weights); training hyper-parameters live in `TrainOptions` (train.ts), except
 * item2vec's pair-generation settings, which only item2vec uses.
 */
const contracts_1 = require("@seqrec/contracts");
exports.MODEL_KINDS = ['sasrec', 'gru4rec', 'lstm', 'item2vec'];
/** Event-type vocabulary size when a model uses event types (`EVENT_TYPES` codes). */
exports.DEFAULT_NUM_TYPES = contracts_1.EVENT_TYPES.length;
function posInt(field, v) {
    if (!Number.isInteger(v) || v < 1)
        throw new RangeError(`${field} must be a positive integer, got ${v}`);
}
function rate(field, v) {
    if (!(v >= 0 && v < 1))
        throw new RangeError(`${field} must be in [0, 1), got ${v}`);
}
/** Fills defaults (SASRec paper settings for ML-1M, except maxLen 50) and validates. */
function resolveConfig(input) {
    const base = {
        numItems: input.numItems,
        dim: input.dim ?? 50,
        maxLen: input.maxLen ?? 50,
        numTypes: input.numTypes ?? 0,
        seed: input.seed ?? 42,
    };
    let cfg;
    switch (input.kind) {
        case 'sasrec':
            cfg = {
                kind: 'sasrec',
                ...base,
                blocks: input.blocks ?? 2,
                heads: input.heads ?? 1,
                dropout: input.dropout ?? 0.2,
                innerDim: input.innerDim ?? base.dim,
                layerNormEps: input.layerNormEps ?? 1e-8,
            };
            break;
        case 'gru4rec':
        case 'lstm':
            cfg = { kind: input.kind, ...base, units: input.units ?? base.dim, dropout: input.dropout ?? 0.1 };
            break;
        case 'item2vec':
            cfg = {
                kind: 'item2vec',
                ...base,
                decay: input.decay ?? 0.9,
                similarity: input.similarity ?? 'cosine',
                window: input.window ?? 5,
                negatives: input.negatives ?? 5,
                subsample: input.subsample ?? 1e-3,
            };
            break;
        default:
            throw new RangeError(`kind must be one of ${exports.MODEL_KINDS.join('|')}, got ${String(input.kind)}`);
    }
    validateConfig(cfg);
    return cfg;
}
/** Throws a RangeError naming the first bad field. */
function validateConfig(cfg) {
    posInt('numItems', cfg.numItems);
    posInt('dim', cfg.dim);
    posInt('maxLen', cfg.maxLen);
    if (!Number.isInteger(cfg.numTypes) || cfg.numTypes < 0)
        throw new RangeError(`numTypes must be ≥ 0, got ${cfg.numTypes}`);
    if (!Number.isInteger(cfg.seed))
        throw new RangeError(`seed must be an integer, got ${cfg.seed}`);
    switch (cfg.kind) {
        case 'sasrec':
            posInt('blocks', cfg.blocks);
            posInt('heads', cfg.heads);
            if (cfg.dim % cfg.heads !== 0)
                throw new RangeError(`heads (${cfg.heads}) must divide dim (${cfg.dim})`);
            rate('dropout', cfg.dropout);
            posInt('innerDim', cfg.innerDim);
            if (!(cfg.layerNormEps > 0))
                throw new RangeError(`layerNormEps must be > 0, got ${cfg.layerNormEps}`);
            break;
        case 'gru4rec':
        case 'lstm':
            posInt('units', cfg.units);
            rate('dropout', cfg.dropout);
            break;
        case 'item2vec':
            if (cfg.numTypes !== 0)
                throw new RangeError(`item2vec takes no event types (numTypes must be 0, got ${cfg.numTypes})`);
            if (!(cfg.decay > 0 && cfg.decay <= 1))
                throw new RangeError(`decay must be in (0, 1], got ${cfg.decay}`);
            if (cfg.similarity !== 'dot' && cfg.similarity !== 'cosine') {
                throw new RangeError(`similarity must be dot|cosine, got ${String(cfg.similarity)}`);
            }
            posInt('window', cfg.window);
            posInt('negatives', cfg.negatives);
            if (!(cfg.subsample >= 0))
                throw new RangeError(`subsample must be ≥ 0, got ${cfg.subsample}`);
            break;
    }
}
//# sourceMappingURL=config.js.map