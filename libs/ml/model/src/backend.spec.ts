/**
 * The native backend turns libtensorflow's oneDNN kernels on unless TF_ENABLE_ONEDNN_OPTS says
 * otherwise. Each case is a fresh Node process: libtensorflow reads the variable once, when it
 * first builds a kernel, and logs "oneDNN custom operations are on" when it uses them.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { initBackend } from './backend';
import { DotTable } from './simd-dot';

const INDEX = join(__dirname, 'index.js');

function runNative(onednnEnv: string | undefined): { info: { name: string; onednn: boolean; version: string }; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, SEQREC_TF_BACKEND: 'tensorflow', TF_CPP_MIN_LOG_LEVEL: '0' };
  delete env['TF_ENABLE_ONEDNN_OPTS'];
  if (onednnEnv !== undefined) env['TF_ENABLE_ONEDNN_OPTS'] = onednnEnv;
  const script = `
    const m = require(${JSON.stringify(INDEX)});
    m.initBackend().then((info) => {
      const tf = info.tf;
      tf.matMul(tf.ones([8, 16]), tf.ones([16, 8])).dataSync();
      process.stdout.write(JSON.stringify({ name: info.name, onednn: info.onednn, version: info.version }));
    }).catch((e) => { console.error(e); process.exit(1); });`;
  const r = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return { info: JSON.parse(r.stdout) as { name: string; onednn: boolean; version: string }, stderr: r.stderr };
}

describe('native backend: oneDNN kernels', () => {
  it('are on by default, and libtensorflow uses them', () => {
    const { info, stderr } = runNative(undefined);
    assert.equal(info.name, 'tensorflow');
    assert.equal(info.onednn, true);
    assert.match(info.version, /tfjs-node .*\(oneDNN on\)/);
    assert.match(stderr, /oneDNN custom operations are on/);
  });

  it('stay off when TF_ENABLE_ONEDNN_OPTS=0', () => {
    const { info, stderr } = runNative('0');
    assert.equal(info.onednn, false);
    assert.match(info.version, /\(oneDNN off\)/);
    assert.doesNotMatch(stderr, /oneDNN custom operations are on/);
  });
});

describe('native backend: dropout and relu', () => {
  it('dropout draws its masks in TensorFlow (the rate, the scale, seeded, the same mask in the gradient); relu differentiates with ReluGrad', () => {
    const script = `
      const m = require(${JSON.stringify(INDEX)});
      m.initBackend('tensorflow').then((info) => {
        const tf = info.tf;
        const u = m.nativeUniform([1000], 5);
        if (!u) throw new Error('no native uniform on the tensorflow backend');
        const uv = Array.from(u.dataSync());
        const x = tf.ones([400, 50]);
        const draw = (seed) => { m.seedDropout(seed); return Array.from(m.dropout(x, 0.2, true).dataSync()); };
        const a = draw(3), b = draw(3), c = draw(4);
        m.seedDropout(3);
        const g = Array.from(tf.grad((t) => tf.sum(m.dropout(t, 0.2, true)))(x).dataSync());
        const rx = tf.randomNormal([300, 7], 0, 1, 'float32', 1), rw = tf.randomNormal([300, 7], 0, 1, 'float32', 2);
        const rg = tf.grad((t) => tf.sum(tf.mul(m.relu(t), rw)))(rx).dataSync();
        const rwant = tf.mul(rw, tf.cast(tf.greater(rx, 0), 'float32')).dataSync();
        const reluGradOk = rg.every((v, i) => v === rwant[i]) && m.relu(rx).dataSync().every((v, i) => v === Math.max(rx.dataSync()[i], 0));
        process.stdout.write(JSON.stringify({ reluGradOk, uMin: Math.min(...uv), uMax: Math.max(...uv), uMean: uv.reduce((s, v) => s + v, 0) / uv.length,
          dropped: a.filter((v) => v === 0).length / a.length, values: [...new Set(a.map((v) => v.toFixed(5)))].sort(),
          sameSeed: a.every((v, i) => v === b[i]), otherSeed: a.some((v, i) => v !== c[i]), gradIsMask: g.every((v, i) => v === a[i]) }));
      }).catch((e) => { console.error(e); process.exit(1); });`;
    const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, SEQREC_TF_BACKEND: 'tensorflow' }, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const o = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.ok((o['uMin'] as number) >= 0 && (o['uMax'] as number) < 1, r.stdout);
    assert.ok(Math.abs((o['uMean'] as number) - 0.5) < 0.05, r.stdout);
    assert.ok(Math.abs((o['dropped'] as number) - 0.2) < 0.01, r.stdout);
    assert.deepEqual(o['values'], ['0.00000', '1.25000']);
    assert.equal(o['sameSeed'], true);
    assert.equal(o['otherSeed'], true);
    assert.equal(o['gradIsMask'], true);
    assert.equal(o['reluGradOk'], true, 'relu and its gradient (TensorFlow ReluGrad)');
  });
});

describe('SEQREC_SIMD', () => {
  it('false: kernels created after initBackend run their scalar fallback; true again: SIMD', async () => {
    const rows = Float32Array.from({ length: 4 * 8 }, (_, i) => i % 5);
    const settings = { SEQREC_TF_BACKEND: 'cpu', TF_ENABLE_ONEDNN_OPTS: true } as const;
    try {
      await initBackend('cpu', { ...settings, SEQREC_SIMD: false });
      assert.equal(new DotTable(rows, 4, 8).simd, false);
      await initBackend('cpu', { ...settings, SEQREC_SIMD: true });
      assert.equal(new DotTable(rows, 4, 8).simd, true);
    } finally {
      await initBackend('cpu', { ...settings, SEQREC_SIMD: true });
    }
  });
});
