"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.FeedForward = exports.CausalSelfAttention = void 0;
const ops_1 = require("../ops");
const tf_1 = require("../tf");
const common_1 = require("./common");
/** Large negative added to masked attention scores (not -Infinity: fully masked rows stay finite). */
const MASKED = -1e9;
/**
 * Causal multi-head self-attention over [x [B, L, d], mask [B, L]]: position i attends to
 * positions j ≤ i whose mask is 1. Q, K, V and output projections with biases.
 * tfjs-layers has no attention layer, hence this one.
 */
class CausalSelfAttention extends tf_1.tf.layers.Layer {
    static className = 'SeqrecCausalSelfAttention';
    dim;
    heads;
    rate;
    seed;
    w = null;
    constructor(args) {
        super(args);
        (0, common_1.assertPositiveInt)('CausalSelfAttention', 'dim', args.dim);
        (0, common_1.assertPositiveInt)('CausalSelfAttention', 'heads', args.heads);
        if (args.dim % args.heads !== 0) {
            throw new RangeError(`CausalSelfAttention: heads (${args.heads}) must divide dim (${args.dim})`);
        }
        const rate = args.dropout ?? 0;
        (0, common_1.assertRate)('CausalSelfAttention', 'dropout', rate);
        this.dim = args.dim;
        this.heads = args.heads;
        this.rate = rate;
        this.seed = args.seed;
    }
    build(inputShape) {
        const [xs, ms] = (0, common_1.shapeList)(inputShape);
        if (!xs || !ms || xs.length !== 3 || ms.length !== 2 || !(0, common_1.dimsMatch)(xs[2], this.dim) || !(0, common_1.dimsMatch)(xs[1], ms[1])) {
            throw new Error(`CausalSelfAttention ${this.name}: expected [x [B, L, ${this.dim}], mask [B, L]], got x ${(0, common_1.fmtShape)(xs)} and mask ${(0, common_1.fmtShape)(ms)}`);
        }
        const d = this.dim;
        const mk = (p, k) => ({
            kernel: this.addWeight(`${p}_kernel`, [d, d], 'float32', (0, common_1.glorot)(this.seed, k)),
            bias: this.addWeight(`${p}_bias`, [d], 'float32', tf_1.tf.initializers.zeros()),
        });
        this.w = { q: mk('query', 0), k: mk('key', 1), v: mk('value', 2), o: mk('output', 3) };
        this.built = true;
    }
    computeOutputShape(inputShape) {
        return (0, common_1.shapeList)(inputShape)[0];
    }
    call(inputs, kwargs) {
        return tf_1.tf.tidy(() => {
            const [x, mask] = (0, common_1.inputList)(this.name, inputs, 2);
            if (x.rank !== 3 || x.shape[2] !== this.dim || mask.rank !== 2 || x.shape[0] !== mask.shape[0] || x.shape[1] !== mask.shape[1]) {
                throw new Error(`CausalSelfAttention ${this.name}: x ${(0, common_1.fmtShape)(x.shape)} and mask ${(0, common_1.fmtShape)(mask.shape)} do not fit [B, L, ${this.dim}] / [B, L]`);
            }
            const [b, l] = x.shape;
            const h = this.heads;
            const dk = this.dim / h;
            const w = this.w;
            // [B, L, d] → [B*h, L, dk]
            const split = (t) => h === 1 ? t : tf_1.tf.reshape(tf_1.tf.transpose(tf_1.tf.reshape(t, [b, l, h, dk]), [0, 2, 1, 3]), [b * h, l, dk]);
            const q = split((0, ops_1.dense)(x, w.q.kernel.read(), w.q.bias.read()));
            const k = split((0, ops_1.dense)(x, w.k.kernel.read(), w.k.bias.read()));
            const v = split((0, ops_1.dense)(x, w.v.kernel.read(), w.v.bias.read()));
            let scores = tf_1.tf.mul((0, ops_1.mm)(q, tf_1.tf.transpose(k, [0, 2, 1])), 1 / Math.sqrt(dk)); // [B*h, L, L]
            // allowed(i, j) = j <= i and mask[j]; additive bias 0 / MASKED, [B, 1, L, L]
            const causal = tf_1.tf.linalg.bandPart(tf_1.tf.ones([l, l]), -1, 0);
            const allowed = tf_1.tf.mul(causal, tf_1.tf.reshape(mask, [b, 1, 1, l]));
            const bias = tf_1.tf.mul(tf_1.tf.sub(1, allowed), MASKED);
            scores = tf_1.tf.reshape(tf_1.tf.add(tf_1.tf.reshape(scores, [b, h, l, l]), bias), [b * h, l, l]);
            const attn = (0, ops_1.dropout)(tf_1.tf.softmax(scores), this.rate, (0, common_1.isTraining)(kwargs));
            let out = (0, ops_1.mm)(attn, v); // [B*h, L, dk]
            if (h > 1)
                out = tf_1.tf.reshape(tf_1.tf.transpose(tf_1.tf.reshape(out, [b, h, l, dk]), [0, 2, 1, 3]), [b, l, this.dim]);
            return (0, ops_1.dense)(out, w.o.kernel.read(), w.o.bias.read());
        });
    }
    getConfig() {
        return {
            ...super.getConfig(),
            dim: this.dim,
            heads: this.heads,
            dropout: this.rate,
            ...(this.seed === undefined ? {} : { seed: this.seed }),
        };
    }
}
exports.CausalSelfAttention = CausalSelfAttention;
tf_1.tf.serialization.registerClass(CausalSelfAttention);
/** Point-wise feed-forward: `dropout(W2 · dropout(relu(W1 · x + b1)) + b2)` at every position. */
class FeedForward extends tf_1.tf.layers.Layer {
    static className = 'SeqrecFeedForward';
    dim;
    innerDim;
    rate;
    seed;
    w = [];
    constructor(args) {
        super(args);
        (0, common_1.assertPositiveInt)('FeedForward', 'dim', args.dim);
        const inner = args.innerDim ?? args.dim;
        (0, common_1.assertPositiveInt)('FeedForward', 'innerDim', inner);
        const rate = args.dropout ?? 0;
        (0, common_1.assertRate)('FeedForward', 'dropout', rate);
        this.dim = args.dim;
        this.innerDim = inner;
        this.rate = rate;
        this.seed = args.seed;
    }
    build(inputShape) {
        const s = (0, common_1.shapeList)(inputShape)[0];
        if (!(0, common_1.dimsMatch)(s[s.length - 1], this.dim)) {
            throw new Error(`FeedForward ${this.name}: input ${(0, common_1.fmtShape)(s)} does not match width ${(0, common_1.fmtShape)([null, null, this.dim])}`);
        }
        this.w = [
            this.addWeight('kernel1', [this.dim, this.innerDim], 'float32', (0, common_1.glorot)(this.seed, 0)),
            this.addWeight('bias1', [this.innerDim], 'float32', tf_1.tf.initializers.zeros()),
            this.addWeight('kernel2', [this.innerDim, this.dim], 'float32', (0, common_1.glorot)(this.seed, 1)),
            this.addWeight('bias2', [this.dim], 'float32', tf_1.tf.initializers.zeros()),
        ];
        this.built = true;
    }
    computeOutputShape(inputShape) {
        return (0, common_1.shapeList)(inputShape)[0];
    }
    call(inputs, kwargs) {
        return tf_1.tf.tidy(() => {
            const [x] = (0, common_1.inputList)(this.name, inputs, 1);
            const training = (0, common_1.isTraining)(kwargs);
            const [k1, b1, k2, b2] = this.w.map((v) => v.read());
            const hidden = (0, ops_1.dropout)(tf_1.tf.relu((0, ops_1.dense)(x, k1, b1)), this.rate, training);
            return (0, ops_1.dropout)((0, ops_1.dense)(hidden, k2, b2), this.rate, training);
        });
    }
    getConfig() {
        return {
            ...super.getConfig(),
            dim: this.dim,
            innerDim: this.innerDim,
            dropout: this.rate,
            ...(this.seed === undefined ? {} : { seed: this.seed }),
        };
    }
}
exports.FeedForward = FeedForward;
tf_1.tf.serialization.registerClass(FeedForward);
//# sourceMappingURL=attention.js.map