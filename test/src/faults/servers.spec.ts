/**
 * The servers fail under load: the Kafka broker is stopped and started again, or paused
 * (SIGSTOP/SIGCONT: its sockets stay open and nothing answers); Redis is restarted. These are the
 * suite's own broker and Redis (never the shared ones). Load comes both ways at once: HTTP clients
 * that retry the same events and a producer on the raw topic. The services are supervised as
 * Kubernetes would (restarted when they exit or their liveness fails). Oracle: every event a
 * client was told was accepted on the events topic exactly once and in its window exactly once.
 */
import { after, before, describe, it } from 'node:test';
import { TOPICS } from '@seqrec/contracts';
import { announce, between, pick, sleep } from './lib/config';
import { FaultInfra } from './lib/infra';
import { EventSource, HttpLoad, RawLoad, uniqueValid } from './lib/load';
import { runStreamScenario, type RunOutcome } from './lib/scenario';
import type { Stack } from './lib/stack';

announce('servers');

/** Injects the fault and undoes it; returns a note for the table. */
type Inject = () => Promise<string>;

/** One scenario: {@link underLoad} with `inject` struck `cycles` times; the stack may take 5 minutes to converge after it. */
function faultUnderLoad(infra: FaultInfra, name: string, fault: string, cycles: number, inject: Inject): Promise<void> {
  return runStreamScenario(infra, {
    name,
    fault,
    repetitions: 1,
    convergeTimeoutMs: 300_000,
    // librdkafka's group debug lines in the services' logs: a failure prints their tail
    stack: { env: { KAFKA_DEBUG: 'cgrp' } },
    run: (stack, { random, seed }) => underLoad(stack, random, seed, inject, cycles),
  });
}

/** Ingester + builder under HTTP and raw load; `inject` strikes after a random warm-up; load goes on a while after. */
async function underLoad(stack: Stack, random: () => number, seed: number, inject: Inject, cycles: number): Promise<RunOutcome> {
  await stack.start('ingester');
  await stack.start('sequence-builder');
  // Supervised until the stack's cleanup, through the oracle's wait too, as Kubernetes would: a
  // consumer found wedged after the load stopped is restarted like any other.
  stack.supervise();
  const rawSource = new EventSource({ seed, maxEvents: pick(40_000, 400_000), duplicateRate: 0.01 });
  const httpSource = new EventSource({ seed: seed + 7_919, maxEvents: pick(40_000, 800_000) });
  const raw = await new RawLoad(stack.brokers, stack.topic(TOPICS.CLICKSTREAM_RAW), rawSource, { rate: pick(500, 1_000) }).start();
  const http = new HttpLoad(() => stack.member('ingester').svc.url, (n) => httpSource.events(n), {
    clients: 6,
    batch: 100,
    rate: pick(500, 2_000),
    requestTimeoutMs: 5_000,
    giveUpMs: 480_000,
  }).start();
  const notes: string[] = [];
  try {
    for (let c = 0; c < cycles; c++) {
      await sleep(between(random, 2_000, 5_000));
      notes.push(await inject());
    }
    await sleep(between(random, 3_000, 6_000));
  } finally {
    await http.stop();
    await raw.stop();
  }
  const told = http.summary();
  const failures: string[] = [];
  if (told.undelivered > 0) failures.push(`${told.undelivered} HTTP events never got an answer within the clients' patience (480 s)`);
  if (told.rejected > 0) failures.push(`${told.rejected} valid HTTP events were answered "rejected"`);
  return {
    expected: [...uniqueValid(raw.sent), ...http.delivered],
    faults: cycles,
    raw: true,
    notes: [
      ...notes,
      `raw: ${raw.sent.length} records (${raw.failedSends} failed sends repeated)`,
      `HTTP: ${told.accepted} accepted, ${told.duplicate} duplicate; ${http.requests} requests (${[...http.statuses].map(([k, v]) => `${k}: ${v}`).join(', ')})`,
      `supervisor restarts: ${stack.restarts.length ? stack.restarts.map((r) => `${r.app} (${r.reason})`).join(', ') : 'none'}`,
    ],
    failures,
  };
}

/** A scenario that hangs (a client wedged for good) fails with its output instead of holding the CI run until its limit. */
const SCENARIO_TIMEOUT = { timeout: pick(15, 40) * 60_000 };

describe('fault: Kafka and Redis fail under load', () => {
  let infra: FaultInfra;
  before(async () => {
    infra = await FaultInfra.acquire();
  });
  after(async () => {
    await infra?.release();
  });

  it('broker stopped and started again', SCENARIO_TIMEOUT, async () => {
    // full: also the broker SIGKILLed, and down for 5 minutes (the issue's backpressure test: 2,000 events/s offered over HTTP)
    const downMs = pick([15_000], [30_000, 300_000]);
    let cycle = 0;
    await faultUnderLoad(infra, 'broker-stop', `Kafka broker stopped (${pick('SIGTERM', 'SIGTERM, then SIGKILL')}) for ${downMs.map((d) => `${d / 1000} s`).join(' / ')} and started again`, downMs.length, async () => {
      const signal = cycle % 2 === 0 ? 'SIGTERM' : 'SIGKILL';
      const down = downMs[cycle++]!;
      const t0 = Date.now();
      let stopped = 0;
      let t1 = 0;
      try {
        await infra.stopKafka(signal);
        stopped = Date.now() - t0;
        await sleep(down);
      } finally {
        t1 = Date.now();
        await infra.startKafka();
      }
      return `broker ${signal}: stop took ${(stopped / 1000).toFixed(1)} s, down ${(down / 1000).toFixed(0)} s, start ${((Date.now() - t1) / 1000).toFixed(1)} s`;
    });
  });

  it('broker paused (SIGSTOP) and resumed', SCENARIO_TIMEOUT, async () => {
    const pauseMs = pick(15_000, 60_000);
    await faultUnderLoad(infra, 'broker-pause', `Kafka broker paused (SIGSTOP) for ${pauseMs / 1000} s, ${pick(1, 2)}×`, pick(1, 2), async () => {
      infra.pauseKafka();
      try {
        await sleep(pauseMs);
      } finally {
        infra.resumeKafka();
      }
      return `broker paused ${pauseMs / 1000} s`;
    });
  });

  it('Redis restarted', SCENARIO_TIMEOUT, async () => {
    const downMs = pick(5_000, 30_000);
    await faultUnderLoad(infra, 'redis-restart', `Redis stopped (SIGTERM) for ${downMs / 1000} s and started again, ${pick(1, 2)}×`, pick(1, 2), async () => {
      const t0 = Date.now();
      await infra.restartRedis(downMs);
      return `Redis down ${((Date.now() - t0) / 1000).toFixed(1)} s`;
    });
  });
});
