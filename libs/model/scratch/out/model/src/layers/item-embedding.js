"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.ApplyMask = exports.PaddingMask = exports.ItemEmbedding = void 0;
const ops_1 = require("../ops");
const tf_1 = require("../tf");
const common_1 = require("./common");
/**
 * Item (+ positional, + event-type) embedding of left-padded id sequences: ids [B, L] (or
 * [ids, types]) → [B, L, d]. Holds the item table [numItems + 1, d], which the models also use as
 * the output (scoring) table.
 */
class ItemEmbedding extends tf_1.tf.layers.Layer {
    static className = 'SeqrecItemEmbedding';
    numItems;
    dim;
    maxLen;
    positional;
    numTypes;
    scale;
    rate;
    maskPadding;
    seed;
    items = null;
    positions = null;
    types = null;
    constructor(args) {
        super(args);
        (0, common_1.assertPositiveInt)('ItemEmbedding', 'numItems', args.numItems);
        (0, common_1.assertPositiveInt)('ItemEmbedding', 'dim', args.dim);
        (0, common_1.assertPositiveInt)('ItemEmbedding', 'maxLen', args.maxLen);
        const numTypes = args.numTypes ?? 0;
        if (!Number.isInteger(numTypes) || numTypes < 0) {
            throw new RangeError(`ItemEmbedding: numTypes must be a non-negative integer, got ${numTypes}`);
        }
        const rate = args.dropout ?? 0;
        (0, common_1.assertRate)('ItemEmbedding', 'dropout', rate);
        this.numItems = args.numItems;
        this.dim = args.dim;
        this.maxLen = args.maxLen;
        this.positional = args.positional ?? false;
        this.numTypes = numTypes;
        this.scale = args.scale ?? false;
        this.rate = rate;
        this.maskPadding = args.maskPadding ?? true;
        this.seed = args.seed;
    }
    build(inputShape) {
        const shapes = (0, common_1.shapeList)(inputShape);
        const want = this.numTypes > 0 ? 2 : 1;
        if (shapes.length !== want) {
            throw new Error(`ItemEmbedding ${this.name}: expected ${want} input(s) (ids${want === 2 ? ', types' : ''}), got ${shapes.length}`);
        }
        this.items = this.addWeight('items', [this.numItems + 1, this.dim], 'float32', (0, common_1.glorot)(this.seed, 0));
        if (this.positional)
            this.positions = this.addWeight('positions', [this.maxLen, this.dim], 'float32', (0, common_1.glorot)(this.seed, 1));
        if (this.numTypes > 0)
            this.types = this.addWeight('types', [this.numTypes, this.dim], 'float32', (0, common_1.glorot)(this.seed, 2));
        this.built = true;
    }
    computeOutputShape(inputShape) {
        const s = (0, common_1.shapeList)(inputShape)[0];
        return [s[0] ?? null, s[1] ?? null, this.dim];
    }
    /** The item table [numItems + 1, d] (the live variable: do not dispose). */
    itemTable() {
        if (!this.items)
            throw new Error(`ItemEmbedding ${this.name}: not built yet`);
        return this.items.read();
    }
    call(inputs, kwargs) {
        return tf_1.tf.tidy(() => {
            const list = (0, common_1.inputList)(this.name, inputs, this.numTypes > 0 ? 2 : 1);
            const ids = (0, common_1.asInt)(list[0]);
            if (ids.rank !== 2)
                throw new Error(`ItemEmbedding ${this.name}: ids must be [B, L], got ${(0, common_1.fmtShape)(ids.shape)}`);
            const [b, l] = ids.shape;
            if (l > this.maxLen) {
                throw new Error(`ItemEmbedding ${this.name}: ids ${(0, common_1.fmtShape)(ids.shape)} longer than maxLen ${this.maxLen}`);
            }
            let x = tf_1.tf.gather(this.items.read(), ids);
            if (this.scale)
                x = tf_1.tf.mul(x, Math.sqrt(this.dim));
            if (this.positions) {
                x = tf_1.tf.add(x, tf_1.tf.slice(this.positions.read(), [this.maxLen - l, 0], [l, this.dim]));
            }
            if (this.types) {
                const t = (0, common_1.asInt)(list[1]);
                if (t.shape[0] !== b || t.shape[1] !== l) {
                    throw new Error(`ItemEmbedding ${this.name}: types ${(0, common_1.fmtShape)(t.shape)} do not match ids ${(0, common_1.fmtShape)(ids.shape)}`);
                }
                x = tf_1.tf.add(x, tf_1.tf.gather(this.types.read(), t));
            }
            x = (0, ops_1.dropout)(x, this.rate, (0, common_1.isTraining)(kwargs));
            if (this.maskPadding)
                x = tf_1.tf.mul(x, tf_1.tf.expandDims(tf_1.tf.cast(tf_1.tf.greater(ids, 0), 'float32'), 2));
            return x;
        });
    }
    getConfig() {
        return {
            ...super.getConfig(),
            numItems: this.numItems,
            dim: this.dim,
            maxLen: this.maxLen,
            positional: this.positional,
            numTypes: this.numTypes,
            scale: this.scale,
            dropout: this.rate,
            maskPadding: this.maskPadding,
            ...(this.seed === undefined ? {} : { seed: this.seed }),
        };
    }
}
exports.ItemEmbedding = ItemEmbedding;
tf_1.tf.serialization.registerClass(ItemEmbedding);
/** ids [B, L] → float mask [B, L], 1 where id > 0. */
class PaddingMask extends tf_1.tf.layers.Layer {
    static className = 'SeqrecPaddingMask';
    constructor(args = {}) {
        super(args);
    }
    computeOutputShape(inputShape) {
        return (0, common_1.shapeList)(inputShape)[0];
    }
    call(inputs) {
        return tf_1.tf.tidy(() => {
            const [ids] = (0, common_1.inputList)(this.name, inputs, 1);
            return tf_1.tf.cast(tf_1.tf.greater(ids, 0), 'float32');
        });
    }
}
exports.PaddingMask = PaddingMask;
tf_1.tf.serialization.registerClass(PaddingMask);
/** [x [B, L, d], mask [B, L]] → x × mask: zeroes padding positions. */
class ApplyMask extends tf_1.tf.layers.Layer {
    static className = 'SeqrecApplyMask';
    constructor(args = {}) {
        super(args);
    }
    computeOutputShape(inputShape) {
        return (0, common_1.shapeList)(inputShape)[0];
    }
    call(inputs) {
        return tf_1.tf.tidy(() => {
            const [x, mask] = (0, common_1.inputList)(this.name, inputs, 2);
            if (x.shape[0] !== mask.shape[0] || x.shape[1] !== mask.shape[1]) {
                throw new Error(`ApplyMask ${this.name}: input ${(0, common_1.fmtShape)(x.shape)} does not match mask ${(0, common_1.fmtShape)(mask.shape)}`);
            }
            return tf_1.tf.mul(x, tf_1.tf.expandDims(mask, 2));
        });
    }
}
exports.ApplyMask = ApplyMask;
tf_1.tf.serialization.registerClass(ApplyMask);
//# sourceMappingURL=item-embedding.js.map