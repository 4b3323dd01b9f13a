"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.fmtShape = fmtShape;
exports.dimsMatch = dimsMatch;
exports.assertPositiveInt = assertPositiveInt;
exports.assertRate = assertRate;
exports.glorot = glorot;
exports.isTraining = isTraining;
exports.inputList = inputList;
exports.shapeList = shapeList;
exports.asInt = asInt;
const tf_1 = require("../tf");
/** `[2, null, 50]` for shapes of tensors or symbolic tensors. */
function fmtShape(shape) {
    return shape ? `[${shape.map((d) => (d === null ? 'null' : String(d))).join(', ')}]` : '[?]';
}
/** Same dimension, or either unknown. */
function dimsMatch(a, b) {
    return a == null || b == null || a === b;
}
function assertPositiveInt(layer, field, v) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
        throw new RangeError(`${layer}: ${field} must be a positive integer, got ${String(v)}`);
    }
}
function assertRate(layer, field, v) {
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) {
        throw new RangeError(`${layer}: ${field} must be in [0, 1), got ${String(v)}`);
    }
}
/** Glorot-uniform initialiser, seeded when `seed` is given (weight k of a layer uses seed + k). */
function glorot(seed, k) {
    return tf_1.tf.initializers.glorotUniform(seed === undefined ? {} : { seed: seed + k });
}
/** The `training` flag of a call (false unless set). */
function isTraining(kwargs) {
    return kwargs?.['training'] === true;
}
/** Inputs as a list, checking the count. */
function inputList(layer, inputs, n) {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (list.length !== n)
        throw new Error(`${layer}: expected ${n} input(s), got ${list.length}`);
    return list;
}
/** Input shapes as a list of shapes. */
function shapeList(inputShape) {
    return Array.isArray(inputShape[0]) || inputShape.length === 0 ? inputShape : [inputShape];
}
/** Casts to int32 when needed (symbolic inputs may be declared float32 by a caller). */
function asInt(t) {
    return t.dtype === 'int32' ? t : tf_1.tf.cast(t, 'int32');
}
//# sourceMappingURL=common.js.map