/**
 * Hand-written recurrent layer (this library's `Recurrent`) against `tf.layers.gru` / `tf.layers.lstm`:
 * time per training step (forward + backward) over [batch, steps, dim] inputs.
 *
 *   node libs/ml/model/dist/bench/rnn-cells.js [--batch 128] [--steps 50] [--dim 64] [--reps 5]
 */
import type { Tensor } from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { initBackend } from '../backend';
import { Recurrent, type CellType } from '../layers/recurrent';
import { tf } from '../tf';

const { values: args } = parseArgs({
  strict: true,
  options: {
    batch: { type: 'string', default: '128' },
    steps: { type: 'string', default: '50' },
    dim: { type: 'string', default: '64' },
    reps: { type: 'string', default: '5' },
  },
});

async function main(): Promise<void> {
  const backend = await initBackend('tensorflow');
  const [b, l, d, reps] = [args.batch, args.steps, args.dim, args.reps].map(Number) as [number, number, number, number];
  const x = tf.randomNormal([b, l, d]);
  const mask = tf.ones([b, l]);
  for (const cell of ['gru', 'lstm'] as CellType[]) {
    const ours = new Recurrent({ cell, inputDim: d, units: d, seed: 1 });
    ours.apply([tf.input({ shape: [null, d] }), tf.input({ shape: [null] })]);
    const theirs =
      cell === 'gru'
        ? tf.layers.gru({ units: d, returnSequences: true, recurrentInitializer: 'glorotUniform' })
        : tf.layers.lstm({ units: d, returnSequences: true, recurrentInitializer: 'glorotUniform' });
    theirs.apply(tf.input({ shape: [null, d] }));
    const variants: [string, () => Tensor, tf.Variable[]][] = [
      ['seqrec Recurrent', () => ours.apply([x, mask], { training: true }) as Tensor, ours.trainableWeights.map((w) => w.read() as tf.Variable)],
      [`tf.layers.${cell}`, () => theirs.apply(x, { training: true }) as Tensor, theirs.trainableWeights.map((w) => w.read() as tf.Variable)],
    ];
    for (const [name, f, vars] of variants) {
      const step = () => {
        const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(f())) as tf.Scalar, vars);
        value.dataSync();
        tf.dispose([value, ...Object.values(grads)]);
      };
      step();
      const t0 = performance.now();
      for (let r = 0; r < reps; r++) step();
      const ms = (performance.now() - t0) / reps;
      console.log(JSON.stringify({ backend: backend.name, cell, impl: name, batch: b, steps: l, dim: d, msPerStep: Math.round(ms), sequencesPerSecond: Math.round((b / ms) * 1000) }));
    }
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
