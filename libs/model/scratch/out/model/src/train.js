"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.trainModel = trainModel;
const batches_1 = require("./batches");
const item2vec_1 = require("./item2vec");
const losses_1 = require("./losses");
const random_1 = require("./random");
const tf_1 = require("./tf");
function checkOptions(o, modelMaxLen) {
    const posInt = (f, v) => {
        if (v !== undefined && (!Number.isInteger(v) || v < 1))
            throw new RangeError(`${f} must be a positive integer, got ${v}`);
    };
    posInt('epochs', o.epochs);
    posInt('batchSize', o.batchSize);
    posInt('negatives', o.negatives);
    posInt('validateEvery', o.validateEvery);
    posInt('patience', o.patience);
    posInt('progressEvery', o.progressEvery);
    posInt('maxBatchesPerEpoch', o.maxBatchesPerEpoch);
    posInt('maxLen', o.maxLen);
    if (!(o.lr > 0))
        throw new RangeError(`lr must be > 0, got ${o.lr}`);
    if (o.loss !== undefined && !losses_1.LOSS_KINDS.includes(o.loss))
        throw new RangeError(`loss must be one of ${losses_1.LOSS_KINDS.join('|')}, got ${o.loss}`);
    if (o.maxLen !== undefined && o.maxLen > modelMaxLen)
        throw new RangeError(`maxLen ${o.maxLen} exceeds the model's maxLen ${modelMaxLen}`);
}
const yieldToEventLoop = () => new Promise((resolve) => setImmediate(resolve));
function trainableVariables(encoder) {
    return encoder.model.trainableWeights.map((w) => w.read());
}
function nextItemRunner(encoder, data, o, rng, optimizer) {
    const loss = o.loss ?? 'softmax';
    const maxLen = o.maxLen ?? encoder.config.maxLen;
    const negatives = o.negatives ?? (loss === 'bce' ? 1 : 256);
    const numItems = encoder.config.numItems;
    const useTypes = encoder.config.numTypes > 0;
    if (useTypes && !data.trainTypes)
        throw new Error(`${encoder.name} uses event types but the split has no trainTypes`);
    const usable = data.train.map((s, i) => (s.length >= 2 ? i : -1)).filter((i) => i >= 0);
    if (usable.length === 0)
        throw new Error('no training sequence has 2 or more items');
    const order = Int32Array.from(usable);
    const vars = trainableVariables(encoder);
    const d = encoder.config.dim;
    return async (_epoch, tick) => {
        rng.shuffle(order);
        let batches = Math.ceil(order.length / o.batchSize);
        if (o.maxBatchesPerEpoch)
            batches = Math.min(batches, o.maxBatchesPerEpoch);
        let lossSum = 0;
        let sequences = 0;
        let examples = 0;
        for (let b = 0; b < batches; b++) {
            const idx = order.subarray(b * o.batchSize, (b + 1) * o.batchSize);
            const seqs = Array.from(idx, (i) => data.train[i]);
            const batch = (0, batches_1.nextItemBatch)(seqs, maxLen, useTypes ? Array.from(idx, (i) => data.trainTypes[i]) : undefined);
            const m = batch.positions.length;
            const targets = Int32Array.from(batch.positions, (p) => batch.targets[p]);
            const neg = (0, losses_1.sampleNegatives)(loss, negatives, numItems, targets, (p) => seqs[Math.floor(batch.positions[p] / batch.len)], rng);
            const ids = tf_1.tf.tensor2d(batch.ids, [batch.rows, batch.len], 'int32');
            const types = batch.types ? tf_1.tf.tensor2d(batch.types, [batch.rows, batch.len], 'int32') : null;
            const pos = tf_1.tf.tensor1d(batch.positions, 'int32');
            const tgt = tf_1.tf.tensor1d(targets, 'int32');
            const cost = optimizer.minimize(() => {
                const hidden = encoder.hiddenStates(ids, types, true);
                const h = tf_1.tf.gather(tf_1.tf.reshape(hidden, [-1, d]), pos);
                return (0, losses_1.nextItemLoss)(loss, h, tgt, encoder.itemTable(), neg);
            }, true, vars);
            const value = (await cost.data())[0];
            tf_1.tf.dispose([cost, ids, pos, tgt, ...(types ? [types] : [])]);
            if (!Number.isFinite(value))
                throw new Error(`loss became ${value} at batch ${b}`);
            lossSum += value;
            sequences += seqs.length;
            examples += m;
            tick(b + 1, batches, lossSum / (b + 1), sequences);
            await yieldToEventLoop();
        }
        return { loss: lossSum / batches, sequences, examples };
    };
}
function item2vecRunner(encoder, data, o, rng, optimizer) {
    const cfg = encoder.config;
    if (cfg.kind !== 'item2vec')
        throw new Error(`item2vec training on a ${cfg.kind} model`);
    const tables = (0, item2vec_1.buildSkipGramTables)(data.train, cfg.numItems, cfg.subsample);
    const inputTable = trainableVariables(encoder)[0];
    const init = tf_1.tf.zeros([cfg.numItems + 1, cfg.dim]);
    const outputTable = tf_1.tf.variable(init, true);
    init.dispose();
    const order = Int32Array.from(data.train.keys());
    const k = cfg.negatives;
    const approxBatches = () => {
        let pairs = 0;
        for (const s of data.train)
            pairs += s.length * (cfg.window + 1);
        return Math.max(1, Math.ceil(pairs / o.batchSize));
    };
    const estimate = approxBatches();
    const run = async (_epoch, tick) => {
        rng.shuffle(order);
        const buf = { centres: [], contexts: [] };
        let lossSum = 0;
        let steps = 0;
        let sequences = 0;
        let examples = 0;
        const step = async (n) => {
            const negs = new Int32Array(n * k);
            for (let i = 0; i < negs.length; i++)
                negs[i] = tables.unigram[rng.int(0, tables.unigram.length - 1)];
            const cost = (0, item2vec_1.skipGramStep)(optimizer, inputTable, outputTable, Int32Array.from(buf.centres.slice(0, n)), Int32Array.from(buf.contexts.slice(0, n)), negs, k);
            const v = (await cost.data())[0];
            cost.dispose();
            if (!Number.isFinite(v))
                throw new Error(`loss became ${v} at step ${steps}`);
            buf.centres.splice(0, n);
            buf.contexts.splice(0, n);
            lossSum += v;
            steps++;
            examples += n;
            tick(steps, Math.max(steps, estimate), lossSum / steps, sequences);
            await yieldToEventLoop();
        };
        for (const i of order) {
            if (o.maxBatchesPerEpoch && steps >= o.maxBatchesPerEpoch)
                break;
            (0, item2vec_1.skipGramPairs)(data.train[i], cfg, tables, rng, buf);
            sequences++;
            while (buf.centres.length >= o.batchSize && !(o.maxBatchesPerEpoch && steps >= o.maxBatchesPerEpoch))
                await step(o.batchSize);
        }
        if (buf.centres.length > 0 && !(o.maxBatchesPerEpoch && steps >= o.maxBatchesPerEpoch))
            await step(buf.centres.length);
        return { loss: steps ? lossSum / steps : 0, sequences, examples };
    };
    return { run, dispose: () => outputTable.dispose() };
}
/**
 * Trains `encoder` in place on `data.train` and returns per-epoch figures. With `validate`, keeps
 * the weights of the best validation NDCG@10 and stops after `patience` validations without
 * improvement.
 */
async function trainModel(encoder, data, opts) {
    checkOptions(opts, encoder.config.maxLen);
    const before = tf_1.tf.memory().numTensors;
    const seed = opts.seed ?? encoder.config.seed;
    const rng = new random_1.Rng(seed);
    (0, random_1.seedDropout)(seed + 1);
    const optimizer = tf_1.tf.train.adam(opts.lr, 0.9, opts.beta2 ?? 0.98, 1e-8);
    const i2v = encoder.perPosition ? null : item2vecRunner(encoder, data, opts, rng, optimizer);
    const runEpoch = i2v ? i2v.run : nextItemRunner(encoder, data, opts, rng, optimizer);
    const progressEvery = opts.progressEvery ?? 10;
    const patience = opts.patience ?? 3;
    const validateEvery = opts.validateEvery ?? 1;
    const report = {
        model: encoder.name,
        backend: tf_1.tf.getBackend(),
        loss: i2v ? 'sgns' : (opts.loss ?? 'softmax'),
        epochs: [],
        bestEpoch: null,
        bestNdcg10: null,
        stoppedEarly: false,
        restoredBest: false,
        totalSeconds: 0,
        numTensors: { before, after: before },
    };
    const t0 = performance.now();
    let best = null;
    let sinceBest = 0;
    try {
        for (let epoch = 1; epoch <= opts.epochs; epoch++) {
            const e0 = performance.now();
            const stats = await runEpoch(epoch, (batch, batches, loss, sequences) => {
                if (!opts.onProgress || (batch % progressEvery !== 0 && batch !== batches))
                    return;
                const elapsed = (performance.now() - e0) / 1000;
                const perBatch = elapsed / batch;
                opts.onProgress({
                    epoch,
                    epochs: opts.epochs,
                    batch,
                    batches,
                    loss,
                    elapsedSeconds: (performance.now() - t0) / 1000,
                    etaSeconds: perBatch * (batches - batch) + perBatch * batches * (opts.epochs - epoch),
                    sequencesPerSecond: sequences / elapsed,
                });
            });
            const seconds = (performance.now() - e0) / 1000;
            const er = {
                epoch,
                loss: stats.loss,
                seconds,
                sequences: stats.sequences,
                sequencesPerSecond: stats.sequences / seconds,
                examples: stats.examples,
            };
            report.epochs.push(er);
            encoder.invalidate();
            if (opts.validate && (epoch % validateEvery === 0 || epoch === opts.epochs)) {
                const v0 = performance.now();
                const { ndcg10 } = await opts.validate(epoch);
                er.ndcg10 = ndcg10;
                er.validateSeconds = (performance.now() - v0) / 1000;
                if (report.bestNdcg10 === null || ndcg10 > report.bestNdcg10) {
                    report.bestNdcg10 = ndcg10;
                    report.bestEpoch = epoch;
                    sinceBest = 0;
                    if (best)
                        tf_1.tf.dispose(best);
                    best = encoder.model.getWeights().map((w) => w.clone());
                }
                else if (++sinceBest >= patience) {
                    report.stoppedEarly = epoch < opts.epochs;
                    break;
                }
            }
        }
        const last = report.epochs[report.epochs.length - 1];
        if (best && report.bestEpoch !== null && last && report.bestEpoch !== last.epoch) {
            encoder.model.setWeights(best);
            encoder.invalidate();
            report.restoredBest = true;
        }
    }
    finally {
        if (best)
            tf_1.tf.dispose(best);
        i2v?.dispose();
        optimizer.dispose();
    }
    report.totalSeconds = (performance.now() - t0) / 1000;
    report.numTensors.after = tf_1.tf.memory().numTensors;
    return report;
}
//# sourceMappingURL=train.js.map