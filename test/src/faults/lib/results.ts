/**
 * Each scenario's result, printed with its time and recorded in RESULTS_FILE (JSON), from which
 * `npm run faults:report` renders the table in bench/RESULTS.md. A result is recorded before the
 * scenario's assertions run, so a failing scenario is in the table too.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { FAULT_SEED, MODE, RESULTS_FILE, scenarioSeed } from './config';
import type { StreamVerdict } from './oracle';

export interface ScenarioResult {
  /** Stable id, e.g. `kill-ingester-http`. */
  scenario: string;
  /** What was done, for the table. */
  fault: string;
  /** Runs of the scenario (kills or fault cycles are in `faults`). */
  repetitions: number;
  /** Faults injected over all repetitions (kills, stops, pauses, ...). */
  faults: number;
  /** Events clients were told were accepted (fuzz: generated cases). */
  events: number;
  lost: { topic: number; windows: number };
  duplicated: { topic: number; windows: number };
  seconds: number;
  passed: boolean;
  notes: string;
}

interface ResultsFile {
  generatedBy: string;
  results: Record<string, ScenarioResult & { mode: string; seed: number; replay: string; at: string; machine: { cores: number; cpu: string; loadAvg: number[] } }>;
}

export function verdictCounts(v: StreamVerdict): Pick<ScenarioResult, 'lost' | 'duplicated'> {
  return { lost: { topic: v.topic.lost, windows: v.windows.lost }, duplicated: { topic: v.topic.duplicated, windows: v.windows.extra } };
}

export function recordResult(r: ScenarioResult): void {
  let file: ResultsFile = { generatedBy: 'the fault suite (test/src/faults); table: npm run faults:report', results: {} };
  try {
    file = JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as ResultsFile;
  } catch {
    // first result
  }
  file.results[`${MODE}/${r.scenario}`] = {
    ...r,
    seconds: Math.round(r.seconds * 10) / 10,
    mode: MODE,
    seed: FAULT_SEED,
    replay: `SEQREC_FAULT_SEED=${FAULT_SEED}${MODE === 'full' ? ' SEQREC_FAULTS=full' : ''} (scenario seed ${scenarioSeed(r.scenario)})`,
    at: new Date().toISOString(),
    machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? '?', loadAvg: loadavg().map((x) => Math.round(x * 100) / 100) },
  };
  mkdirSync(dirname(RESULTS_FILE), { recursive: true });
  writeFileSync(`${RESULTS_FILE}.tmp`, JSON.stringify(file, null, 2) + '\n');
  renameSync(`${RESULTS_FILE}.tmp`, RESULTS_FILE);
  console.log(
    `# [fault] ${r.scenario}: ${r.passed ? 'passed' : 'FAILED'} in ${r.seconds.toFixed(1)} s; ${r.repetitions} run(s), ${r.faults} fault(s), ${r.events} events, ` +
      `lost ${r.lost.topic}/${r.lost.windows}, duplicated ${r.duplicated.topic}/${r.duplicated.windows} (topic/windows); ${r.notes}`,
  );
}

/** Seconds since `t0`. */
export const since = (t0: number) => (Date.now() - t0) / 1000;
