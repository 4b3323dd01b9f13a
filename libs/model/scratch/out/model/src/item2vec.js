"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.buildSkipGramTables = buildSkipGramTables;
exports.skipGramPairs = skipGramPairs;
exports.skipGramStep = skipGramStep;
const ops_1 = require("./ops");
const tf_1 = require("./tf");
function buildSkipGramTables(train, numItems, subsample) {
    const counts = new Float64Array(numItems + 1);
    let total = 0;
    for (const s of train) {
        for (const it of s) {
            counts[it] += 1;
            total++;
        }
    }
    const keep = new Float32Array(numItems + 1).fill(1);
    if (subsample > 0) {
        const t = subsample * total;
        for (let i = 1; i <= numItems; i++) {
            const c = counts[i];
            if (c > 0)
                keep[i] = Math.min(1, (Math.sqrt(c / t) + 1) * (t / c));
        }
    }
    let z = 0;
    for (let i = 1; i <= numItems; i++)
        z += Math.pow(counts[i], 0.75);
    const size = Math.min(2_000_000, Math.max(100_000, 20 * numItems));
    const unigram = new Int32Array(size);
    if (z === 0) {
        for (let j = 0; j < size; j++)
            unigram[j] = 1 + (j % numItems);
    }
    else {
        let i = 1;
        let acc = Math.pow(counts[1], 0.75) / z;
        for (let j = 0; j < size; j++) {
            unigram[j] = i;
            if ((j + 1) / size > acc && i < numItems) {
                i++;
                acc += Math.pow(counts[i], 0.75) / z;
            }
        }
    }
    return { keep, unigram };
}
/** (centre, context) pairs of one sequence, appended to `out`. */
function skipGramPairs(seq, cfg, tables, rng, out) {
    const kept = [];
    for (const it of seq)
        if (it > 0 && rng.next() < tables.keep[it])
            kept.push(it);
    for (let i = 0; i < kept.length; i++) {
        const b = rng.int(1, cfg.window);
        const lo = Math.max(0, i - b);
        const hi = Math.min(kept.length - 1, i + b);
        for (let j = lo; j <= hi; j++) {
            if (j === i)
                continue;
            out.centres.push(kept[i]);
            out.contexts.push(kept[j]);
        }
    }
}
/** One SGNS step on a batch of pairs; returns the loss tensor (caller disposes). */
function skipGramStep(optimizer, inputTable, outputTable, centres, contexts, negatives, k) {
    const p = centres.length;
    const c = tf_1.tf.tensor1d(centres, 'int32');
    const x = tf_1.tf.tensor1d(contexts, 'int32');
    const n = tf_1.tf.tensor2d(negatives, [p, k], 'int32');
    const cost = optimizer.minimize(() => {
        const u = tf_1.tf.gather(inputTable, c); // [P, d]
        const pos = tf_1.tf.sum(tf_1.tf.mul(u, tf_1.tf.gather(outputTable, x)), 1);
        const neg = tf_1.tf.sum(tf_1.tf.mul(tf_1.tf.gather(outputTable, n), tf_1.tf.expandDims(u, 1)), 2);
        return (0, ops_1.bceWithNegatives)(pos, neg);
    }, true, [inputTable, outputTable]);
    c.dispose();
    x.dispose();
    n.dispose();
    return cost;
}
//# sourceMappingURL=item2vec.js.map