/**
 * npm run bench:train — training speed of SASRec and GRU4Rec on ML-1M on the native backend
 * (`tensorflow`, libtensorflow through tfjs-node), the only one training is for: each measurement
 * is a child process of the trainer CLI with `SEQREC_TF_BACKEND=tensorflow` (it fails instead of
 * falling back), one epoch capped at a number of steps.
 *
 * Backends: `tensorflow` (oneDNN kernels on, seqrec's default) and `tensorflow-eigen` (the same
 * library with `TF_ENABLE_ONEDNN_OPTS=0`: its Eigen kernels, the baseline for the oneDNN gain).
 * Models: `sasrec` (full softmax, as trained by default), `sasrec-bce` (the configuration of the
 * PyTorch reference in TFJS-NOTES.md: BCE with one negative, hidden 50, maxlen 200, batch 128,
 * 2 blocks, 1 head, dropout 0.2) and `gru4rec`.
 *
 * Reports per run: steps, sequences/s over the capped epoch (the first step, which pays for kernel
 * set-up, is included, as in every epoch), the extrapolated full-epoch time (6,040 ML-1M training
 * sequences / sequences per second), peak RSS of the process; and per model the oneDNN/Eigen
 * ratio. Writes bench/results/train.json.
 *
 * Environment: BENCH_TRAIN_STEPS (steps per run, default 30), BENCH_TRAIN_MODELS
 * (sasrec,sasrec-bce,gru4rec), BENCH_TRAIN_BACKENDS (tensorflow,tensorflow-eigen),
 * BENCH_TRAIN_MAXLEN (200 for SASRec, as the
 * paper; GRU4Rec uses BENCH_TRAIN_RNN_MAXLEN, default 50), BENCH_TRAIN_BATCH (128).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machineInfo, TRAINER_MALLOC, writeResult } from './machine';

const env = (name: string, dflt: string) => process.env[name] ?? dflt;
const STEPS = Number(env('BENCH_TRAIN_STEPS', '30'));
const MODELS = env('BENCH_TRAIN_MODELS', 'sasrec,sasrec-bce,gru4rec').split(',').filter(Boolean);
const BACKENDS = env('BENCH_TRAIN_BACKENDS', 'tensorflow,tensorflow-eigen').split(',').filter(Boolean);
const MAXLEN = env('BENCH_TRAIN_MAXLEN', '200');
const RNN_MAXLEN = env('BENCH_TRAIN_RNN_MAXLEN', '50');
const BATCH = env('BENCH_TRAIN_BATCH', '128');
const CLI = join(__dirname, '..', '..', 'libs', 'ml', 'training', 'dist', 'cli', 'train.js');
const ML1M_TRAIN_SEQUENCES = 6040;

const log = (msg: string) => console.error(`[bench:train ${process.uptime().toFixed(0)}s] ${msg}`);

interface CliResult {
  backend: string;
  backendVersion?: string;
  epochs: Array<{ seconds: number; sequences: number; sequencesPerSecond: number; examples: number }>;
  peakRssMB: number;
  timings: { loadSeconds: number; totalSeconds: number };
}

/** The TF.js backend a bench backend runs on, and the environment that selects its kernels. */
function backendEnv(backend: string): Record<string, string> {
  if (backend === 'tensorflow') return { SEQREC_TF_BACKEND: 'tensorflow', TF_ENABLE_ONEDNN_OPTS: '1' };
  if (backend === 'tensorflow-eigen') return { SEQREC_TF_BACKEND: 'tensorflow', TF_ENABLE_ONEDNN_OPTS: '0' };
  throw new Error(`BENCH_TRAIN_BACKENDS: unknown backend ${backend} (tensorflow|tensorflow-eigen)`);
}

function run(args: string[], backend: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...TRAINER_MALLOC, ...process.env, ...backendEnv(backend) },
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'seqrec-train-bench-'));
  const runs: Array<Record<string, unknown>> = [];
  const started = new Date().toISOString();
  const machine = machineInfo();
  try {
    for (const model of MODELS) {
      for (const backend of BACKENDS) {
        const steps = STEPS;
        const sasrec = model.startsWith('sasrec');
        const maxLen = sasrec ? MAXLEN : RNN_MAXLEN;
        const loss = model === 'sasrec-bce' ? 'bce' : 'softmax';
        const json = join(work, `${model}-${backend}.json`);
        const args = [
          '--data', 'ml-1m', '--model', sasrec ? 'sasrec' : model, '--loss', loss, '--epochs', '1', '--max-batches', String(steps),
          '--batch-size', BATCH, '--max-len', maxLen, '--dim', '50', '--valid-users', '20', '--eval-users', '20',
          ...(sasrec ? ['--arch', 'blocks=2,heads=1,dropout=0.2'] : []),
          '--out', join(work, 'store'), '--json', json, '--quiet',
        ];
        log(`${model} on ${backend}: ${steps} steps of ${BATCH} sequences, maxLen ${maxLen}`);
        const code = await run(args, backend);
        if (code !== 0) {
          runs.push({ model, backend, error: `exit code ${code}` });
          log(`${model} on ${backend}: FAILED (exit ${code})`);
          continue;
        }
        const r = JSON.parse(readFileSync(json, 'utf8')) as CliResult;
        const tfBackend = backendEnv(backend)['SEQREC_TF_BACKEND'];
        if (r.backend !== tfBackend) throw new Error(`asked for ${tfBackend}, the run used ${r.backend}`);
        const wantOnednn = backend === 'tensorflow' ? 'on' : 'off';
        if (!r.backendVersion?.includes(`oneDNN ${wantOnednn}`)) throw new Error(`${backend}: expected oneDNN ${wantOnednn}, the run reports "${r.backendVersion}"`);
        const e = r.epochs[0]!;
        const row = {
          model,
          backend,
          backendVersion: r.backendVersion ?? null,
          loss,
          maxLen: Number(maxLen),
          batchSize: Number(BATCH),
          steps,
          sequences: e.sequences,
          seconds: Number(e.seconds.toFixed(2)),
          sequencesPerSecond: Number(e.sequencesPerSecond.toPrecision(4)),
          targetPositionsPerSecond: Math.round(e.examples / e.seconds),
          epochSecondsExtrapolated: Number((ML1M_TRAIN_SEQUENCES / e.sequencesPerSecond).toFixed(1)),
          peakRssMB: r.peakRssMB,
        };
        runs.push(row);
        log(`${model} on ${backend}: ${row.sequencesPerSecond} seq/s, epoch ≈ ${row.epochSecondsExtrapolated} s, peak RSS ${row.peakRssMB} MB`);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const ratios = MODELS.map((model) => {
    const n = runs.find((r) => r['model'] === model && r['backend'] === 'tensorflow' && !r['error']);
    const e = runs.find((r) => r['model'] === model && r['backend'] === 'tensorflow-eigen' && !r['error']);
    const ratio = (a?: Record<string, unknown>, b?: Record<string, unknown>, digits = 2) =>
      a && b ? Number(((a['sequencesPerSecond'] as number) / (b['sequencesPerSecond'] as number)).toFixed(digits)) : null;
    return { model, onednnOverEigen: ratio(n, e) };
  });
  const nativeUsed = runs.some((r) => r['backend'] === 'tensorflow' && !r['error']);
  const file = writeResult('train', {
    benchmark: 'train',
    started,
    finished: new Date().toISOString(),
    machine,
    backend: nativeUsed ? 'tensorflow' : 'unavailable',
    dataset: 'ml-1m (6,040 users, 3,416 items; leave-one-out train split)',
    reference: 'PyTorch SASRec (BCE, maxlen 200, hidden 50, batch 128, 2 threads) 14.7 s per epoch on this machine type (TFJS-NOTES.md)',
    runs,
    ratios,
  });
  log(`written ${file}`);
  process.stdout.write(`${JSON.stringify({ runs, ratios }, null, 2)}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
