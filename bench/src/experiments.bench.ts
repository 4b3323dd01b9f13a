/**
 * npm run bench:experiments — the experiment report's false-positive rate and power on simulated
 * logs, through the same code the scorer's report uses (@seqrec/experiments: sticky assignment by
 * hashed user id, per-variant counts, the mSPRT report read at every look).
 *
 * Closed loop: every impression is a simulated shopper (@seqrec/generator's Shoppers) on an item
 * drawn by the generator's popularity, assigned to a variant by `assignVariant`, shown the variant's
 * top-K list, and clicking or buying by the generator's own transition model. The report is read
 * every BENCH_LOOK_EVERY impressions, carrying its p-values from look to look, as an analyst
 * refreshing a dashboard would; a run "declares a winner" when any look names one.
 *
 * - A/A: both variants serve the same policy (popularity); BENCH_RUNS runs of BENCH_IMPRESSIONS
 *   impressions each. The false-positive rate must stay within 0.05 plus two standard errors.
 * - A/B: the treatment shows the shopper's true next items in a share of impressions chosen so that
 *   its expected CTR is BENCH_EFFECT (1.2) times the control's (computed from the shoppers' own click
 *   probabilities before the runs); the power is the share of runs that name the treatment.
 *
 * Writes bench/results/experiments.json. Environment: BENCH_RUNS (300), BENCH_IMPRESSIONS (40,000
 * per run, both variants), BENCH_LOOK_EVERY (1,000), BENCH_K (10), BENCH_EFFECT (1.2), BENCH_AB_RUNS (100).
 */
import { Catalogue, resolveOptions, Shoppers } from '@seqrec/generator';
import { assignVariant, EMPTY_COUNTS, experimentReport, type AssignmentConfig, type VariantCounts } from '@seqrec/experiments';
import { Rng } from '@seqrec/random';
import { envNumber, machineInfo, writeResult } from './machine';

const RUNS = envNumber('BENCH_RUNS', 300);
const AB_RUNS = envNumber('BENCH_AB_RUNS', 100);
const IMPRESSIONS = envNumber('BENCH_IMPRESSIONS', 40_000);
const LOOK_EVERY = envNumber('BENCH_LOOK_EVERY', 1_000);
const K = envNumber('BENCH_K', 10);
const EFFECT = envNumber('BENCH_EFFECT', 1.2);
const ALPHA = 0.05;
const log = (msg: string) => console.error(`[bench:experiments ${process.uptime().toFixed(1)}s] ${msg}`);

const catalogue = new Catalogue(resolveOptions({ seed: 42 }));
const shoppers = new Shoppers(catalogue);
const byPopularity = Array.from({ length: catalogue.size }, (_, i) => i).sort((a, b) => catalogue.popularity[b]! - catalogue.popularity[a]!);

/** The K most popular items other than `current`. */
function popularityList(current: number): number[] {
  const out: number[] = [];
  for (const i of byPopularity) {
    if (i !== current) out.push(i);
    if (out.length === K) break;
  }
  return out;
}

/** The shopper's true next items first, then popularity. */
function nextItemsList(current: number): number[] {
  const out = catalogue.nextItems(current).slice(0, K);
  for (const i of byPopularity) {
    if (out.length === K) break;
    if (i !== current && !out.includes(i)) out.push(i);
  }
  return out;
}

type Policy = (current: number, rng: Rng) => number[];

/** Expected CTR of a list policy over shoppers drawn by popularity (exact per shopper, averaged over draws). */
function expectedCtr(list: (current: number) => number[], draws = 50_000): number {
  const rng = new Rng('expected-ctr', 0);
  let sum = 0;
  for (let i = 0; i < draws; i++) {
    const current = catalogue.sampleItem(rng);
    sum += shoppers.listClickProbability(current, list(current));
  }
  return sum / draws;
}

interface RunResult {
  winner: string | null;
  /** Impressions served when the winner was first named (null: never). */
  decidedAt: number | null;
  counts: Record<string, VariantCounts>;
}

/** One experiment: IMPRESSIONS shoppers through assignment, policy, response and the report at every look. */
function runExperiment(id: string, policies: Record<string, Policy>, rng: Rng): RunResult {
  const config: AssignmentConfig = { id, holdout: 0, variants: Object.keys(policies).map((name) => ({ name, share: 1 })) };
  const counts: Record<string, VariantCounts> = Object.fromEntries(Object.keys(policies).map((n) => [n, { ...EMPTY_COUNTS }]));
  let previous: Record<string, number> = {};
  let winner: string | null = null;
  let decidedAt: number | null = null;
  for (let i = 1; i <= IMPRESSIONS; i++) {
    const variant = assignVariant(config, `${id}-shopper-${i}`);
    const current = catalogue.sampleItem(rng);
    const shown = policies[variant]!(current, rng);
    const r = shoppers.respond(current, shown, rng);
    const c = counts[variant]!;
    c.impressions++;
    if (r.clicked.length > 0) c.clickedImpressions++;
    c.clicks += r.clicked.length;
    for (const p of r.clicked) c.clickPositionSum += p + 1;
    if (r.bought.length > 0) c.convertedImpressions++;
    if (i % LOOK_EVERY === 0) {
      const report = experimentReport(counts, { alpha: ALPHA, previous });
      previous = report.state;
      if (report.winner !== null && winner === null) {
        winner = report.winner;
        decidedAt = i;
      }
    }
  }
  return { winner, decidedAt, counts };
}

function main(): void {
  const started = Date.now();
  const ctrPopularity = expectedCtr(popularityList);
  const ctrNext = expectedCtr(nextItemsList);
  const share = (EFFECT - 1) * ctrPopularity / (ctrNext - ctrPopularity);
  if (!(share > 0 && share <= 1)) throw new Error(`effect ${EFFECT} is not reachable: CTR popularity ${ctrPopularity}, next items ${ctrNext}`);
  const ctrTreatment = (1 - share) * ctrPopularity + share * ctrNext;
  log(`expected CTR@${K}: popularity ${ctrPopularity.toFixed(4)}, next items ${ctrNext.toFixed(4)}; treatment shows next items in ${(share * 100).toFixed(1)}% of impressions → ${ctrTreatment.toFixed(4)}`);

  const seeds = new Rng('bench-experiments', 0);
  let falsePositives = 0;
  for (let r = 0; r < RUNS; r++) {
    const res = runExperiment(`aa-${r}`, { a: popularityList, b: popularityList }, new Rng(seeds.u32(), 1));
    if (res.winner !== null) falsePositives++;
    if ((r + 1) % 50 === 0) log(`A/A ${r + 1}/${RUNS}: ${falsePositives} false positives`);
  }
  const fpr = falsePositives / RUNS;
  const se = Math.sqrt((ALPHA * (1 - ALPHA)) / RUNS);

  let found = 0;
  let wrong = 0;
  const decided: number[] = [];
  const observed = { control: 0, treatment: 0 };
  for (let r = 0; r < AB_RUNS; r++) {
    const res = runExperiment(`ab-${r}`, { control: popularityList, treatment: (c, rng) => (rng.float() < share ? nextItemsList(c) : popularityList(c)) }, new Rng(seeds.u32(), 1));
    if (res.winner === 'treatment') {
      found++;
      decided.push(res.decidedAt!);
    } else if (res.winner !== null) wrong++;
    observed.control += res.counts['control']!.clickedImpressions / res.counts['control']!.impressions / AB_RUNS;
    observed.treatment += res.counts['treatment']!.clickedImpressions / res.counts['treatment']!.impressions / AB_RUNS;
  }
  decided.sort((a, b) => a - b);

  const result = {
    at: new Date().toISOString(),
    machine: machineInfo(),
    backend: 'none (statistics in JS)',
    protocol:
      `closed loop on the generator's catalogue (${catalogue.size} items) and its simulated shoppers; ${IMPRESSIONS} impressions per run split by assignVariant (sticky SHA-256 buckets, shares 1:1), top-${K} lists, ` +
      `the report read every ${LOOK_EVERY} impressions with its p-values carried between looks; a run declares a winner when any look names one`,
    test: experimentReport({ a: EMPTY_COUNTS, b: EMPTY_COUNTS }).method,
    alpha: ALPHA,
    aa: {
      runs: RUNS,
      falsePositives,
      rate: fpr,
      standardError: se,
      bound: ALPHA + 2 * se,
      withinBound: fpr <= ALPHA + 2 * se,
    },
    ab: {
      runs: AB_RUNS,
      expectedCtr: { control: ctrPopularity, treatment: ctrTreatment, relative: ctrTreatment / ctrPopularity },
      observedCtr: observed,
      treatmentNamed: found,
      power: found / AB_RUNS,
      wrongWinner: wrong,
      impressionsToDecision: decided.length ? { median: decided[Math.floor(decided.length / 2)], max: decided[decided.length - 1] } : null,
    },
    seconds: (Date.now() - started) / 1000,
  };
  writeResult('experiments', result);
  log(`A/A false positives ${falsePositives}/${RUNS} = ${fpr.toFixed(4)} (bound ${(ALPHA + 2 * se).toFixed(4)}); A/B power ${found}/${AB_RUNS}, wrong winner ${wrong}`);
  if (!result.aa.withinBound) process.exitCode = 1;
}

main();
