"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.RecencyPool = void 0;
const tf_1 = require("../tf");
const common_1 = require("./common");
/**
 * Recency-weighted mean of item vectors: [x [B, L, d], mask [B, L]] → [B, d], with the most
 * recent item in the last column (left padding). All-padding rows give zeros.
 */
class RecencyPool extends tf_1.tf.layers.Layer {
    static className = 'SeqrecRecencyPool';
    decay;
    normalize;
    constructor(args) {
        super(args);
        if (!(args.decay > 0 && args.decay <= 1))
            throw new RangeError(`RecencyPool: decay must be in (0, 1], got ${args.decay}`);
        this.decay = args.decay;
        this.normalize = args.normalize ?? false;
    }
    computeOutputShape(inputShape) {
        const s = (0, common_1.shapeList)(inputShape)[0];
        return [s[0] ?? null, s[2] ?? null];
    }
    call(inputs) {
        return tf_1.tf.tidy(() => {
            const [x0, mask] = (0, common_1.inputList)(this.name, inputs, 2);
            if (x0.rank !== 3 || mask.rank !== 2 || x0.shape[0] !== mask.shape[0] || x0.shape[1] !== mask.shape[1]) {
                throw new Error(`RecencyPool ${this.name}: x ${(0, common_1.fmtShape)(x0.shape)} and mask ${(0, common_1.fmtShape)(mask.shape)} do not fit [B, L, d] / [B, L]`);
            }
            const l = x0.shape[1];
            const x = this.normalize ? tf_1.tf.div(x0, tf_1.tf.add(tf_1.tf.norm(x0, 'euclidean', -1, true), 1e-12)) : x0;
            const decays = new Float32Array(l);
            for (let t = 0; t < l; t++)
                decays[t] = Math.pow(this.decay, l - 1 - t);
            const w = tf_1.tf.mul(mask, tf_1.tf.tensor1d(decays)); // [B, L]
            const total = tf_1.tf.maximum(tf_1.tf.sum(w, 1, true), 1e-12); // [B, 1]
            return tf_1.tf.div(tf_1.tf.sum(tf_1.tf.mul(x, tf_1.tf.expandDims(w, 2)), 1), total);
        });
    }
    getConfig() {
        return { ...super.getConfig(), decay: this.decay, normalize: this.normalize };
    }
}
exports.RecencyPool = RecencyPool;
tf_1.tf.serialization.registerClass(RecencyPool);
//# sourceMappingURL=pooling.js.map