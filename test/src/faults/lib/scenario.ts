/**
 * The shape every stream scenario shares: for each repetition a fresh stack (topics, keys,
 * processes), a run that injects faults under load and says which events clients were told were
 * accepted, the oracle, cleanup; then one recorded result and one assertion naming the seed.
 */
import assert from 'node:assert/strict';
import { FAULT_SEED, FULL, rng, scenarioSeed } from './config';
import type { FaultInfra } from './infra';
import type { LoadEvent } from './load';
import { describeVerdict, holds, verifyStream, type StreamVerdict } from './oracle';
import { recordResult, since } from './results';
import { Stack, type StackOptions } from './stack';

export interface RunOutcome {
  /** Events clients were told were accepted. */
  expected: LoadEvent[];
  /** Faults injected in this run. */
  faults: number;
  /** Whether events came through the raw topic (then the oracle first waits for the ingester group to commit it). */
  raw: boolean;
  /** Observations for the table's notes. */
  notes: string[];
  /** Failures of the scenario's own checks (beyond the oracle), each a sentence. */
  failures?: string[];
}

export interface StreamScenario {
  name: string;
  fault: string;
  repetitions: number;
  stack?: StackOptions;
  /** Deadline for the windows to become complete after the run. */
  convergeTimeoutMs?: number;
  run(stack: Stack, ctx: { rep: number; random: () => number; seed: number }): Promise<RunOutcome>;
  /** Replaces the oracle's generic failure message (a known limitation gets its own). */
  explain?(verdicts: StreamVerdict[]): string | undefined;
}

export function replayHint(name: string): string {
  return `seed ${FAULT_SEED}, scenario ${name} (replay: SEQREC_FAULT_SEED=${FAULT_SEED}${FULL ? ' SEQREC_FAULTS=full' : ''})`;
}

export async function runStreamScenario(infra: FaultInfra, s: StreamScenario): Promise<void> {
  const t0 = Date.now();
  const seed = scenarioSeed(s.name);
  const random = rng(seed);
  const verdicts: StreamVerdict[] = [];
  const failures: string[] = [];
  const notes = new Set<string>();
  let faults = 0;
  let events = 0;
  try {
    for (let rep = 0; rep < s.repetitions; rep++) {
      const stack = await new Stack(infra, s.stack).setup();
      try {
        const out = await s.run(stack, { rep, random, seed: seed + rep });
        faults += out.faults;
        for (const n of out.notes) notes.add(n);
        failures.push(...(out.failures ?? []));
        const v = await verifyStream(stack, out.expected, { raw: out.raw, ...(s.convergeTimeoutMs ? { timeoutMs: s.convergeTimeoutMs } : {}) });
        events += v.events;
        verdicts.push(v);
        console.log(`# ${s.name} run ${rep + 1}/${s.repetitions}: ${describeVerdict(v)}`);
        if (!holds(v)) console.log(`# ${s.name} run ${rep + 1}: what the services logged last\n${stack.logDigest()}`);
      } finally {
        await stack.cleanup();
      }
    }
  } catch (err) {
    failures.push(`the scenario did not complete: ${(err as Error).stack ?? String(err)}`);
  }
  const sum = (f: (v: StreamVerdict) => number) => verdicts.reduce((a, v) => a + f(v), 0);
  const passed = failures.length === 0 && verdicts.length === s.repetitions && verdicts.every(holds);
  recordResult({
    scenario: s.name,
    fault: s.fault,
    repetitions: s.repetitions,
    faults,
    events,
    lost: { topic: sum((v) => v.topic.lost), windows: sum((v) => v.windows.lost) },
    duplicated: { topic: sum((v) => v.topic.duplicated), windows: sum((v) => v.windows.extra) },
    seconds: since(t0),
    passed,
    notes: [...notes, ...failures.map((f) => `FAILED: ${f.split('\n')[0]}`)].join('; '),
  });
  assert.deepEqual(failures, [], `${s.name}: ${replayHint(s.name)}`);
  const bad = verdicts.filter((v) => !holds(v));
  if (bad.length > 0) {
    const why = s.explain?.(verdicts);
    assert.fail(`${s.name}: ${why ? `${why}\n` : ''}the oracle does not hold (${replayHint(s.name)}):\n${bad.map(describeVerdict).join('\n')}`);
  }
}
