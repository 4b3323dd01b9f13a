/**
 * The scorer's latency while a model trains, in embedded mode (every service in one process).
 *
 * Starts `apps/embedded` with its demo defaults (generator at 200 events/s, 30,000 backfilled
 * events, a small SASRec) once per TRAIN_ISOLATION mode (`process`: training in a child process,
 * `inline`: on the serving event loop), waits for the first promoted model, then offers
 * GET /v1/users/{id}/recommendations open-loop at `--rate` requests/s for `--seconds`, starting a
 * training run (`POST /v1/train`, `--epochs`) a third of the way in. Each request is counted as
 * "during training" when its intended send time falls inside the run, else "idle"; p50/p99/max of
 * both (milliseconds from the intended send time, so a stall counts for every request due in it).
 *
 *   node bench/dist/train-serving.bench.js [--rate 100] [--seconds 45] [--epochs 30] [--modes process,inline]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Rng } from '@seqrec/random';
import { openLoop, summarize, type OpenLoopSample } from './loadgen';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '45' },
    epochs: { type: 'string', default: '30' },
    modes: { type: 'string', default: 'process,inline' },
    port: { type: 'string', default: '18290' },
  },
});
const rate = Number(args.rate);
const seconds = Number(args.seconds);
const epochs = Number(args.epochs);
const modes = args.modes.split(',');
const port = Number(args.port);
const root = join(__dirname, '..', '..');
const base = `http://127.0.0.1:${port}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the answers' shapes are read loosely here
type Loose = any;

async function json(path: string, init?: RequestInit): Promise<{ status: number; body: Loose }> {
  const res = await fetch(`${base}${path}`, init);
  return { status: res.status, body: (await res.json().catch(() => null)) as Loose };
}

async function waitFor<T>(what: string, fn: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

async function runMode(isolation: string) {
  const store = await mkdtemp(join(tmpdir(), 'seqrec-bench-models-'));
  const child: ChildProcess = spawn(process.execPath, [join(root, 'apps/embedded/dist/main.js')], {
    env: {
      ...process.env,
      HTTP_PORT: String(port),
      METRICS_PORT: String(port + 1),
      MODEL_STORE_DIR: store,
      DEMO_EVENTS_PER_SEC: '200',
      TRAIN_INTERVAL_MINUTES: '0',
      TRAIN_ISOLATION: isolation,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    const t0 = Date.now();
    const model = await waitFor(
      'a trained model',
      async () => {
        const r = await json('/v1/users/u000001/recommendations?k=1');
        return r.status === 200 && r.body.scoredFrom !== 'popularity' ? (r.body.model as { version: string }) : null;
      },
      120_000,
    );
    const firstModelSeconds = (Date.now() - t0) / 1000;
    const users: string[] = [];
    for (let u = 0; u < 2_000 && users.length < 500; u++) {
      const id = `u${String(u).padStart(6, '0')}`;
      if ((await json(`/v1/users/${id}/sequence`)).status === 200) users.push(id);
    }
    const rng = new Rng(7);
    const samples: OpenLoopSample[] = [];
    let training: { start: number; end: number } | null = null;
    const trainer = (async () => {
      await sleep((seconds * 1000) / 3);
      const start = performance.now();
      const r = await json('/v1/train', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ epochs }) });
      if (r.status !== 202) throw new Error(`POST /v1/train answered ${r.status}: ${JSON.stringify(r.body)}`);
      const id = r.body.runId as string;
      for (;;) {
        await sleep(100);
        const run = await json(`/v1/train/runs/${id}`);
        // a 503 (the scorer's overload shedding, inline training) says nothing about the run
        if (run.status === 200 && run.body?.status !== 'running') {
          training = { start, end: performance.now() };
          return run.body as { status: string; result?: { promoted: boolean } };
        }
      }
    })();
    const load = await openLoop({
      url: base,
      rate,
      seconds,
      path: () => `/v1/users/${users[rng.int(users.length)]}/recommendations?k=10`,
      onResponse: (s) => samples.push(s),
    });
    const run = await trainer;
    const t = training as { start: number; end: number } | null;
    if (!t) throw new Error('the training run did not finish within the load');
    const during = samples.filter((s) => s.intendedAt >= t.start && s.intendedAt <= t.end);
    const idle = samples.filter((s) => s.intendedAt < t.start || s.intendedAt > t.end);
    const ms = (xs: OpenLoopSample[]) => {
      const l = summarize(Float64Array.from(xs.map((s) => s.latencyMs)).sort());
      return { requests: xs.length, p50: +l.p50.toFixed(1), p99: +l.p99.toFixed(1), max: +l.max.toFixed(1) };
    };
    return {
      isolation,
      firstModelSeconds: +firstModelSeconds.toFixed(1),
      servedBefore: model.version,
      trainingSeconds: +((t.end - t.start) / 1000).toFixed(1),
      run: run.status,
      status: load.status,
      idle: ms(idle),
      duringTraining: ms(during),
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await rm(store, { recursive: true, force: true });
  }
}

async function main() {
  const results = [];
  for (const mode of modes) {
    const r = await runMode(mode);
    console.log(JSON.stringify(r));
    results.push(r);
  }
  console.log(`rate ${rate}/s, ${seconds} s, training ${epochs} epochs; latency ms from the intended send time`);
  console.log('isolation | requests idle / during | p50 idle | p99 idle | p50 training | p99 training | max training | training s');
  for (const r of results) {
    console.log(
      `${r.isolation} | ${r.idle.requests} / ${r.duringTraining.requests} | ${r.idle.p50} | ${r.idle.p99} | ${r.duringTraining.p50} | ${r.duringTraining.p99} | ${r.duringTraining.max} | ${r.trainingSeconds}`,
    );
  }
}

void main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
