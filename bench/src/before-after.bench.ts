/**
 * bash scripts/bench.sh before-after — bench:ingest and bench:freshness of two builds in one session:
 * the services of an older commit (BENCH_BEFORE_ROOT: a checkout of it with `npx tsc -b` run, e.g.
 * a git worktree in /tmp) and of this checkout, run by this checkout's benchmark code, interleaved
 * (before, after, before, after, ...) so that a machine whose load drifts meanwhile weighs on both
 * alike. Writes every run to bench/results/<BENCH_AB_NAME>/<bench>-<side>-<rep>.json and the
 * summary to bench/results/<BENCH_AB_NAME>.json: per figure the median, minimum and maximum of each
 * side, the change of the medians, and the machine's load average before each run.
 *
 * Environment: BENCH_BEFORE_ROOT (required), BENCH_AB_BENCHES (ingest,freshness), BENCH_AB_REPS (3),
 * BENCH_AB_NAME (before-after), and the benchmarks' own settings, passed through (BENCH_RATE,
 * BENCH_SECONDS, BENCH_MODES, ...; BENCH_AB_INGEST_RATE / _SECONDS and BENCH_AB_FRESHNESS_SECONDS
 * set them per benchmark).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { machineInfo, RESULTS_DIR, writeResult } from './machine';

const BEFORE_ROOT = process.env.BENCH_BEFORE_ROOT;
const BENCHES = (process.env.BENCH_AB_BENCHES ?? 'ingest,freshness').split(',').filter(Boolean);
const REPS = Number(process.env.BENCH_AB_REPS ?? 3);
const NAME = process.env.BENCH_AB_NAME ?? 'before-after';
const log = (msg: string) => console.error(`[bench:before-after ${process.uptime().toFixed(0)}s] ${msg}`);

type Side = 'before' | 'after';
type Result = Record<string, unknown>;

/** The figures compared, by benchmark: a name and how to read it from a result. */
const FIGURES: Record<string, Record<string, (r: Result) => number | undefined>> = {
  ingest: {
    appliedPerSecDuringLoad: (r) => r.appliedPerSecDuringLoad as number,
    backlogAtEndSeconds: (r) => r.backlogAtEndSeconds as number,
    ingesterCpuMicrosPerEvent: (r) => (r.cpuMicrosPerEvent as Record<string, number>)?.ingester,
    builderCpuMicrosPerEvent: (r) => (r.cpuMicrosPerEvent as Record<string, number>)?.sequenceBuilder,
    cpuMicrosPerEventTotal: (r) => r.cpuMicrosPerEventTotal as number,
    latencyP50Ms: (r) => r.p50Ms as number,
    latencyP99Ms: (r) => r.p99Ms as number,
    lost: (r) => r.lost as number,
    duplicated: (r) => r.duplicated as number,
  },
  freshness: {
    p50Ms: (r) => r.p50Ms as number,
    p99Ms: (r) => r.p99Ms as number,
    samples: (r) => r.samples as number,
  },
};

/** Per-benchmark settings of the runs (the benchmarks' own variables). */
function benchEnv(bench: string): Record<string, string> {
  const env: Record<string, string> = {};
  const set = (name: string, from: string) => {
    const v = process.env[from];
    if (v) env[name] = v;
  };
  if (bench === 'ingest') {
    set('BENCH_RATE', 'BENCH_AB_INGEST_RATE');
    set('BENCH_SECONDS', 'BENCH_AB_INGEST_SECONDS');
  } else if (bench === 'freshness') {
    set('BENCH_SECONDS', 'BENCH_AB_FRESHNESS_SECONDS');
    env.BENCH_MODES = process.env.BENCH_MODES ?? 'exactly-once';
  }
  return env;
}

function run(bench: string, side: Side, rep: number): { result: Result; loadAvg: number[] } {
  const loadAvg = loadavg().map((l) => +l.toFixed(2));
  const resultName = `${NAME}/${bench}-${side}-${rep}`;
  log(`${bench} ${side} #${rep} (load average ${loadAvg.join(' ')})`);
  const env: NodeJS.ProcessEnv = { ...process.env, ...benchEnv(bench), BENCH_RESULT_NAME: resultName };
  if (side === 'before') env.BENCH_APPS_ROOT = BEFORE_ROOT!;
  else delete env.BENCH_APPS_ROOT;
  execFileSync(process.execPath, [join(__dirname, `${bench}.bench.js`)], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  return { result: JSON.parse(readFileSync(join(RESULTS_DIR, `${resultName}.json`), 'utf8')) as Result, loadAvg };
}

function stats(values: number[]): { median: number; min: number; max: number; runs: number[] } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median: +median.toFixed(2), min: sorted[0]!, max: sorted[sorted.length - 1]!, runs: values };
}

function main(): void {
  if (!BEFORE_ROOT) throw new Error('BENCH_BEFORE_ROOT: the root of the older checkout (its apps built) is required');
  const runs: Array<{ bench: string; side: Side; rep: number; loadAvg: number[]; commit: unknown; figures: Record<string, number | undefined> }> = [];
  for (let rep = 1; rep <= REPS; rep++) {
    for (const bench of BENCHES) {
      for (const side of ['before', 'after'] as const) {
        const { result, loadAvg } = run(bench, side, rep);
        const figures = Object.fromEntries(Object.entries(FIGURES[bench] ?? {}).map(([k, f]) => [k, f(result)]));
        runs.push({ bench, side, rep, loadAvg, commit: result.servicesCommit, figures });
        log(`${bench} ${side} #${rep}: ${JSON.stringify(figures)}`);
      }
    }
  }
  const summary: Record<string, Record<string, unknown>> = {};
  for (const bench of BENCHES) {
    summary[bench] = {};
    for (const figure of Object.keys(FIGURES[bench] ?? {})) {
      const of = (side: Side) => runs.filter((r) => r.bench === bench && r.side === side).map((r) => r.figures[figure]).filter((v): v is number => typeof v === 'number');
      const before = of('before');
      const after = of('after');
      if (before.length === 0 || after.length === 0) continue;
      const b = stats(before);
      const a = stats(after);
      summary[bench]![figure] = { before: b, after: a, changePercent: b.median === 0 ? null : +((100 * (a.median - b.median)) / b.median).toFixed(1) };
    }
  }
  const loads = runs.map((r) => r.loadAvg[0]!);
  const file = writeResult(NAME, {
    benchmark: 'before-after',
    at: new Date().toISOString(),
    method: `the same benchmark code runs the services of both builds, interleaved before/after, ${REPS} repetitions; medians, minimum and maximum per side`,
    before: { root: BEFORE_ROOT, commit: runs.find((r) => r.side === 'before')?.commit },
    after: { commit: runs.find((r) => r.side === 'after')?.commit },
    settings: Object.fromEntries(BENCHES.map((b) => [b, benchEnv(b)])),
    loadAverage1mBeforeRuns: { min: Math.min(...loads), max: Math.max(...loads), runs: loads },
    summary,
    runs,
    machine: machineInfo(),
  });
  console.log(JSON.stringify(summary, null, 2));
  log(`wrote ${file}`);
}

main();
