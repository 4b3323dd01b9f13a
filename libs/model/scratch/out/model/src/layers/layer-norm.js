"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.LayerNorm = void 0;
const ops_1 = require("../ops");
const tf_1 = require("../tf");
const common_1 = require("./common");
/**
 * Layer normalisation over the last axis, hand-written (see `layerNorm` in ops.ts for why not
 * `tf.layers.layerNormalization`). Weights: `gamma` (ones) and `beta` (zeros), shape [d].
 */
class LayerNorm extends tf_1.tf.layers.Layer {
    static className = 'SeqrecLayerNorm';
    epsilon;
    gamma = null;
    beta = null;
    dim = null;
    constructor(args = {}) {
        super(args);
        this.epsilon = args.epsilon ?? 1e-8;
        if (!(this.epsilon > 0))
            throw new RangeError(`LayerNorm: epsilon must be > 0, got ${this.epsilon}`);
    }
    build(inputShape) {
        const shape = inputShape;
        const d = shape[shape.length - 1];
        if (d == null)
            throw new Error(`LayerNorm: last dimension of input ${(0, common_1.fmtShape)(shape)} must be known`);
        this.dim = d;
        this.gamma = this.addWeight('gamma', [d], 'float32', tf_1.tf.initializers.ones());
        this.beta = this.addWeight('beta', [d], 'float32', tf_1.tf.initializers.zeros());
        this.built = true;
    }
    computeOutputShape(inputShape) {
        return inputShape;
    }
    call(inputs) {
        return tf_1.tf.tidy(() => {
            const [x] = (0, common_1.inputList)(this.name, inputs, 1);
            if (x.shape[x.rank - 1] !== this.dim) {
                throw new Error(`LayerNorm ${this.name}: input ${(0, common_1.fmtShape)(x.shape)} does not match gamma ${(0, common_1.fmtShape)([this.dim])}`);
            }
            return (0, ops_1.layerNorm)(x, this.gamma.read(), this.beta.read(), this.epsilon);
        });
    }
    getConfig() {
        return { ...super.getConfig(), epsilon: this.epsilon };
    }
}
exports.LayerNorm = LayerNorm;
tf_1.tf.serialization.registerClass(LayerNorm);
//# sourceMappingURL=layer-norm.js.map