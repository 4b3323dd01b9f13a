"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.Projection = exports.Recurrent = void 0;
const ops_1 = require("../ops");
const tf_1 = require("../tf");
const common_1 = require("./common");
/**
 * A GRU or LSTM over [x [B, L, dIn], mask [B, L]] returning every hidden state [B, L, units].
 * Hand-written rather than `tf.layers.gru/lstm`: the input projection for all time steps is one
 * matmul, each step is one [B, units] × [units, G·units] matmul, and masked (padding) steps carry
 * the state through unchanged, so left padding behaves like no padding.
 * GRU follows the cuDNN/PyTorch variant: n = tanh(Wx·x + bx + r ⊙ (Wh·h + bh)).
 */
class Recurrent extends tf_1.tf.layers.Layer {
    static className = 'SeqrecRecurrent';
    cell;
    inputDim;
    units;
    rate;
    seed;
    kernel = null;
    recurrentKernel = null;
    bias = null;
    recurrentBias = null;
    constructor(args) {
        super(args);
        if (args.cell !== 'gru' && args.cell !== 'lstm')
            throw new RangeError(`Recurrent: cell must be gru|lstm, got ${String(args.cell)}`);
        (0, common_1.assertPositiveInt)('Recurrent', 'inputDim', args.inputDim);
        (0, common_1.assertPositiveInt)('Recurrent', 'units', args.units);
        const rate = args.dropout ?? 0;
        (0, common_1.assertRate)('Recurrent', 'dropout', rate);
        this.cell = args.cell;
        this.inputDim = args.inputDim;
        this.units = args.units;
        this.rate = rate;
        this.seed = args.seed;
    }
    get gates() {
        return this.cell === 'gru' ? 3 : 4;
    }
    build(inputShape) {
        const [xs, ms] = (0, common_1.shapeList)(inputShape);
        if (!xs || !ms || xs.length !== 3 || ms.length !== 2 || !(0, common_1.dimsMatch)(xs[2], this.inputDim) || !(0, common_1.dimsMatch)(xs[1], ms[1])) {
            throw new Error(`Recurrent ${this.name}: expected [x [B, L, ${this.inputDim}], mask [B, L]], got x ${(0, common_1.fmtShape)(xs)} and mask ${(0, common_1.fmtShape)(ms)}`);
        }
        const g = this.gates * this.units;
        this.kernel = this.addWeight('kernel', [this.inputDim, g], 'float32', (0, common_1.glorot)(this.seed, 0));
        // Glorot rather than orthogonal: tfjs's orthogonal initialiser warns (and is slow) above 2000 elements.
        this.recurrentKernel = this.addWeight('recurrent_kernel', [this.units, g], 'float32', (0, common_1.glorot)(this.seed, 1));
        this.bias = this.addWeight('bias', [g], 'float32', tf_1.tf.initializers.zeros());
        if (this.cell === 'lstm') {
            // Forget-gate bias 1 (gate order i, f, g, o).
            const u = this.units;
            const init = tf_1.tf.tidy(() => tf_1.tf.concat([tf_1.tf.zeros([u]), tf_1.tf.ones([u]), tf_1.tf.zeros([2 * u])]));
            this.bias.write(init);
            init.dispose();
        }
        if (this.cell === 'gru')
            this.recurrentBias = this.addWeight('recurrent_bias', [g], 'float32', tf_1.tf.initializers.zeros());
        this.built = true;
    }
    computeOutputShape(inputShape) {
        const xs = (0, common_1.shapeList)(inputShape)[0];
        return [xs[0] ?? null, xs[1] ?? null, this.units];
    }
    call(inputs, kwargs) {
        return tf_1.tf.tidy(() => {
            const [x, mask] = (0, common_1.inputList)(this.name, inputs, 2);
            if (x.rank !== 3 || x.shape[2] !== this.inputDim || mask.rank !== 2 || x.shape[0] !== mask.shape[0] || x.shape[1] !== mask.shape[1]) {
                throw new Error(`Recurrent ${this.name}: x ${(0, common_1.fmtShape)(x.shape)} and mask ${(0, common_1.fmtShape)(mask.shape)} do not fit [B, L, ${this.inputDim}] / [B, L]`);
            }
            const [b, l] = x.shape;
            const u = this.units;
            const xw = (0, ops_1.dense)(x, this.kernel.read(), this.bias.read()); // [B, L, G·u]
            const parts = tf_1.tf.split(xw, this.gates, 2).map((p) => tf_1.tf.unstack(p, 1)); // gate → step → [B, u]
            const masks = tf_1.tf.unstack(tf_1.tf.expandDims(mask, 2), 1); // step → [B, 1]
            const rk = this.recurrentKernel.read();
            let h = tf_1.tf.zeros([b, u]);
            let c = tf_1.tf.zeros([b, u]);
            const outs = [];
            for (let t = 0; t < l; t++) {
                let hw = (0, ops_1.mm)(h, rk);
                let hNew;
                if (this.cell === 'gru') {
                    hw = tf_1.tf.add(hw, this.recurrentBias.read());
                    const [hr, hz, hn] = tf_1.tf.split(hw, 3, 1);
                    const r = tf_1.tf.sigmoid(tf_1.tf.add(parts[0][t], hr));
                    const z = tf_1.tf.sigmoid(tf_1.tf.add(parts[1][t], hz));
                    const n = tf_1.tf.tanh(tf_1.tf.add(parts[2][t], tf_1.tf.mul(r, hn)));
                    hNew = tf_1.tf.add(n, tf_1.tf.mul(z, tf_1.tf.sub(h, n)));
                }
                else {
                    const [hi, hf, hg, ho] = tf_1.tf.split(hw, 4, 1);
                    const i = tf_1.tf.sigmoid(tf_1.tf.add(parts[0][t], hi));
                    const f = tf_1.tf.sigmoid(tf_1.tf.add(parts[1][t], hf));
                    const gg = tf_1.tf.tanh(tf_1.tf.add(parts[2][t], hg));
                    const o = tf_1.tf.sigmoid(tf_1.tf.add(parts[3][t], ho));
                    const cNew = tf_1.tf.add(tf_1.tf.mul(f, c), tf_1.tf.mul(i, gg));
                    c = tf_1.tf.add(c, tf_1.tf.mul(masks[t], tf_1.tf.sub(cNew, c)));
                    hNew = tf_1.tf.mul(o, tf_1.tf.tanh(cNew));
                }
                h = tf_1.tf.add(h, tf_1.tf.mul(masks[t], tf_1.tf.sub(hNew, h)));
                outs.push(h);
            }
            return (0, ops_1.dropout)(tf_1.tf.stack(outs, 1), this.rate, (0, common_1.isTraining)(kwargs));
        });
    }
    getConfig() {
        return {
            ...super.getConfig(),
            cell: this.cell,
            inputDim: this.inputDim,
            units: this.units,
            dropout: this.rate,
            ...(this.seed === undefined ? {} : { seed: this.seed }),
        };
    }
}
exports.Recurrent = Recurrent;
tf_1.tf.serialization.registerClass(Recurrent);
/** Position-wise linear map [.., inputDim] → [.., units] (RNN hidden size → embedding width). */
class Projection extends tf_1.tf.layers.Layer {
    static className = 'SeqrecProjection';
    inputDim;
    units;
    seed;
    kernel = null;
    biasW = null;
    constructor(args) {
        super(args);
        (0, common_1.assertPositiveInt)('Projection', 'inputDim', args.inputDim);
        (0, common_1.assertPositiveInt)('Projection', 'units', args.units);
        this.inputDim = args.inputDim;
        this.units = args.units;
        this.seed = args.seed;
    }
    build(inputShape) {
        const s = (0, common_1.shapeList)(inputShape)[0];
        if (!(0, common_1.dimsMatch)(s[s.length - 1], this.inputDim)) {
            throw new Error(`Projection ${this.name}: input ${(0, common_1.fmtShape)(s)} does not match kernel ${(0, common_1.fmtShape)([this.inputDim, this.units])}`);
        }
        this.kernel = this.addWeight('kernel', [this.inputDim, this.units], 'float32', (0, common_1.glorot)(this.seed, 0));
        this.biasW = this.addWeight('bias', [this.units], 'float32', tf_1.tf.initializers.zeros());
        this.built = true;
    }
    computeOutputShape(inputShape) {
        const s = (0, common_1.shapeList)(inputShape)[0];
        return [...s.slice(0, -1), this.units];
    }
    call(inputs) {
        return tf_1.tf.tidy(() => {
            const [x] = (0, common_1.inputList)(this.name, inputs, 1);
            return (0, ops_1.dense)(x, this.kernel.read(), this.biasW.read());
        });
    }
    getConfig() {
        return {
            ...super.getConfig(),
            inputDim: this.inputDim,
            units: this.units,
            ...(this.seed === undefined ? {} : { seed: this.seed }),
        };
    }
}
exports.Projection = Projection;
tf_1.tf.serialization.registerClass(Projection);
//# sourceMappingURL=recurrent.js.map