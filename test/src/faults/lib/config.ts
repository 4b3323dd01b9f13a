/**
 * The fault suite's settings: its mode (CI or full), the seed every kill moment and every generated
 * input derives from, and where its own Kafka broker and Redis live (never the shared ones: the
 * suite stops, pauses and restarts them).
 *
 *   SEQREC_FAULTS=full          the heavier variant (the numbers); default: the CI part
 *   SEQREC_FAULT_SEED=<n>       replay a run (every file prints the seed it used)
 *   SEQREC_FUZZ_RUNS=<n>        generated cases per fuzz property (default 5,000 CI, 100,000 full)
 *   SEQREC_FAULTS_RUN           data, logs and pid files of the suite's own servers (default <tmp>/seqrec-faults-run)
 *   SEQREC_FAULTS_KAFKA_PORT    its broker (default 29092; controller: SEQREC_FAULTS_KAFKA_CONTROLLER_PORT, default +1)
 *   SEQREC_FAULTS_REDIS_PORT    its Redis (default 26379)
 *   SEQREC_FAULTS_RESULTS       where results are recorded (default test/logs/faults-results.json;
 *                               `npm run faults` writes bench/results/faults.json)
 */
import { randomInt } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..', '..', '..');

export type FaultMode = 'ci' | 'full';
export const MODE: FaultMode = process.env.SEQREC_FAULTS === 'full' ? 'full' : 'ci';
export const FULL = MODE === 'full';

/** The CI value or the full variant's. */
export function pick<T>(ci: T, full: T): T {
  return FULL ? full : ci;
}

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got "${raw}"`);
  return n;
}

/** The run's seed: SEQREC_FAULT_SEED, else a fresh one (printed, so a failure can be replayed). */
export const FAULT_SEED = intFromEnv('SEQREC_FAULT_SEED', randomInt(1, 2 ** 31 - 1));

/** The suite's own servers. */
export const FAULT_INFRA = {
  run: process.env.SEQREC_FAULTS_RUN || join(tmpdir(), 'seqrec-faults-run'),
  kafkaPort: intFromEnv('SEQREC_FAULTS_KAFKA_PORT', 29_092),
  controllerPort: intFromEnv('SEQREC_FAULTS_KAFKA_CONTROLLER_PORT', intFromEnv('SEQREC_FAULTS_KAFKA_PORT', 29_092) + 1),
  redisPort: intFromEnv('SEQREC_FAULTS_REDIS_PORT', 26_379),
};

/**
 * Consumer group session timeout the services run with here (KAFKA_SESSION_TIMEOUT_MS): the broker's
 * smallest by default, so a SIGKILLed or paused member's partitions move on after 6 s, not 30.
 */
export const SESSION_TIMEOUT_MS = 6_000;

/** Events kept per window in the suite: more than any user gets, so every event must stay in its window. */
export const WINDOW_CAPACITY = 1_000;

export const RESULTS_FILE = process.env.SEQREC_FAULTS_RESULTS || join(ROOT, 'test', 'logs', 'faults-results.json');

/** Generated cases per fuzz property. */
export const FUZZ_RUNS = intFromEnv('SEQREC_FUZZ_RUNS', pick(5_000, 100_000));

let announced = false;
/** Prints the mode and the seed once per test file (node --test runs each file in its own process). */
export function announce(file: string): void {
  if (announced) return;
  announced = true;
  console.log(`# fault suite ${file}: mode ${MODE}, seed ${FAULT_SEED} (replay: SEQREC_FAULT_SEED=${FAULT_SEED}${FULL ? ' SEQREC_FAULTS=full' : ''})`);
}

/** A scenario's own seed: the run's seed mixed with its name, so each scenario replays alone. */
export function scenarioSeed(name: string): number {
  let h = 0x811c9dc5 ^ FAULT_SEED;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** mulberry32: a small, fast, seeded generator of floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A uniform integer in [min, max]. */
export function between(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
