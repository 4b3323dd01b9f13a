"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.segmentSumRows = segmentSumRows;
exports.registerTrainingKernels = registerTrainingKernels;
const tf_1 = require("./tf");
function read(backend, t) {
    return backend.readSync(t.dataId);
}
/** Scatter-add of rows of `x` into `numSegments` rows by `segmentIds` (negative ids are dropped). */
function segmentSumRows(x, ids, numSegments, out) {
    const rows = ids.length;
    const width = rows === 0 ? 0 : x.length / rows;
    out.fill(0);
    for (let r = 0; r < rows; r++) {
        const s = ids[r];
        if (s < 0 || s >= numSegments)
            continue;
        const o = s * width;
        const i = r * width;
        for (let c = 0; c < width; c++)
            out[o + c] += x[i + c];
    }
}
const unsortedSegmentSum = ({ inputs, backend, attrs }) => {
    const b = backend;
    const x = inputs['x'];
    const segmentIds = inputs['segmentIds'];
    const numSegments = attrs.numSegments;
    const idRank = segmentIds.shape.length;
    if (x.shape.slice(0, idRank).join(',') !== segmentIds.shape.join(',')) {
        throw new Error(`UnsortedSegmentSum: segmentIds shape [${segmentIds.shape}] must prefix x shape [${x.shape}]`);
    }
    const outShape = [numSegments, ...x.shape.slice(idRank)];
    const xv = read(b, x);
    const ids = read(b, segmentIds);
    if (b.makeOutput && b.typedArrayFromHeap) {
        const out = b.makeOutput(outShape, 'float32');
        segmentSumRows(xv, ids, numSegments, b.typedArrayFromHeap(out));
        return out;
    }
    if (!b.makeTensorInfo)
        throw new Error('UnsortedSegmentSum: unsupported backend');
    const values = new Float32Array(outShape.reduce((a, d) => a * d, 1));
    segmentSumRows(xv, ids, numSegments, values);
    return b.makeTensorInfo(outShape, 'float32', values);
};
const registered = new Set();
/**
 * Registers the fast `UnsortedSegmentSum` for `backendName` (`cpu` or `wasm`), replacing the
 * backend's own if it has one. Idempotent. Does nothing for the native backend, whose kernel is fine.
 */
function registerTrainingKernels(backendName) {
    if (backendName !== 'cpu' && backendName !== 'wasm')
        return;
    if (registered.has(backendName))
        return;
    if (tf_1.tf.getKernel('UnsortedSegmentSum', backendName))
        tf_1.tf.unregisterKernel('UnsortedSegmentSum', backendName);
    tf_1.tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName, kernelFunc: unsortedSegmentSum });
    registered.add(backendName);
}
//# sourceMappingURL=kernels.js.map