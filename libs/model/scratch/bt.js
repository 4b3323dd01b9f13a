const tf = require('@tensorflow/tfjs');
require('@tensorflow/tfjs-backend-wasm');
(async () => {
  try { require('@tensorflow/tfjs-node'); } catch (e) { console.log('node fail:', e.message.split('\n')[0]); }
  console.log(await tf.setBackend('wasm'), tf.getBackend());
  const a = tf.randomNormal([4,4]); a.print();
  console.log(tf.engine().registryFactory && Object.keys(tf.engine().registryFactory));
  console.log(tf.getKernel('UnsortedSegmentSum','wasm'), !!tf.getKernel('UnsortedSegmentSum','cpu'));
  console.log(tf.getKernel('Transpose','wasm') ? 'has transpose':'');
})();
