"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.LOSS_KINDS = void 0;
exports.sampleNegatives = sampleNegatives;
exports.nextItemLoss = nextItemLoss;
const ops_1 = require("./ops");
const tf_1 = require("./tf");
exports.LOSS_KINDS = ['softmax', 'sampled-softmax', 'bce'];
/**
 * Draws the negatives a loss needs for one batch (none for `softmax`).
 * @param rowsOf for bce, the sequence each target position belongs to (to avoid its items).
 */
function sampleNegatives(loss, count, numItems, targets, rowsOf, rng) {
    if (loss === 'softmax')
        return null;
    if (loss === 'sampled-softmax') {
        const k = Math.min(count, numItems);
        const ids = new Int32Array(k);
        for (let i = 0; i < k; i++)
            ids[i] = rng.int(1, numItems);
        return { ids, perRow: k };
    }
    const m = targets.length;
    const ids = new Int32Array(m * count);
    const seen = new Uint8Array(numItems + 1);
    let lastSeq = null;
    for (let p = 0; p < m; p++) {
        const seq = rowsOf(p);
        if (seq !== lastSeq) {
            if (lastSeq)
                for (const it of lastSeq)
                    seen[it] = 0;
            for (const it of seq)
                seen[it] = 1;
            lastSeq = seq;
        }
        for (let j = 0; j < count; j++) {
            let it = rng.int(1, numItems);
            // Rejection sampling; give up after a few tries for users who have seen most items.
            for (let tries = 0; (seen[it] === 1 || it === targets[p]) && tries < 20; tries++)
                it = rng.int(1, numItems);
            ids[p * count + j] = it;
        }
    }
    return { ids, perRow: count };
}
/**
 * The loss for hidden states `h [M, d]` with `targets [M]` (items 1..N). Call inside the
 * optimizer's loss function.
 */
function nextItemLoss(loss, h, targets, items, negatives) {
    const [m, d] = h.shape;
    const n = items.shape[0] - 1;
    switch (loss) {
        case 'softmax': {
            const real = tf_1.tf.slice(items, [1, 0], [n, d]);
            return (0, ops_1.fullSoftmaxCrossEntropy)(h, real, tf_1.tf.sub(targets, tf_1.tf.scalar(1, 'int32')));
        }
        case 'sampled-softmax': {
            if (!negatives)
                throw new Error('sampled-softmax needs negatives');
            const k = negatives.ids.length;
            const negIds = tf_1.tf.tensor1d(negatives.ids, 'int32');
            const pos = tf_1.tf.sum(tf_1.tf.mul(h, tf_1.tf.gather(items, targets)), 1, true); // [M, 1]
            let neg = (0, ops_1.mm)(h, tf_1.tf.transpose(tf_1.tf.gather(items, negIds))); // [M, K]
            const hits = tf_1.tf.cast(tf_1.tf.equal(tf_1.tf.reshape(targets, [m, 1]), tf_1.tf.reshape(negIds, [1, k])), 'float32');
            neg = tf_1.tf.add(neg, tf_1.tf.mul(hits, -1e9));
            return (0, ops_1.softmaxCrossEntropy)(tf_1.tf.concat([pos, neg], 1), tf_1.tf.zeros([m], 'int32'));
        }
        case 'bce': {
            if (!negatives)
                throw new Error('bce needs negatives');
            const k = negatives.perRow;
            const pos = tf_1.tf.sum(tf_1.tf.mul(h, tf_1.tf.gather(items, targets)), 1);
            const negE = tf_1.tf.gather(items, tf_1.tf.tensor2d(negatives.ids, [m, k], 'int32')); // [M, k, d]
            const neg = tf_1.tf.sum(tf_1.tf.mul(negE, tf_1.tf.expandDims(h, 1)), 2);
            return (0, ops_1.bceWithNegatives)(pos, neg);
        }
    }
}
//# sourceMappingURL=losses.js.map