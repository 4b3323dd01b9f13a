/**
 * SIGKILL loops on the ingester, restarted after each kill as Kubernetes would, under load:
 * - HTTP path: clients POST batches and retry after any failure with the same body (same eventIds,
 *   well inside INGEST_DEDUP_TTL_SECONDS), as careful producers do;
 * - raw path: a producer publishes to the raw topic (with producer retries and malformed payloads
 *   mixed in); the ingester consumes it exactly-once (KIP-447 transactions).
 * Oracle: every event a client was told was accepted (HTTP: the final answer said accepted or
 * duplicate; raw: every valid event acknowledged by Kafka) is on the events topic exactly once and
 * in its user's window exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TOPICS } from '@seqrec/contracts';
import { FaultInfra } from './lib/infra';
import { announce, pick, sleep } from './lib/config';
import { EventSource, HttpLoad, RawLoad, uniqueValid } from './lib/load';
import { runStreamScenario } from './lib/scenario';
import type { Member, Stack } from './lib/stack';

announce('kill-ingester');

/** Kills per run: at least 10 (the issue), a few more in the full variant. */
const KILLS = pick(10, 12);

const ingested = (stack: Stack, source: 'http' | 'kafka') => async (m: Member) => (await stack.metric(m, 'seqrec_ingester_events_total', { source })) > 0;

describe('fault: ingester SIGKILLed at random moments', () => {
  let infra: FaultInfra;
  before(async () => {
    infra = await FaultInfra.acquire();
  });
  after(async () => {
    await infra?.release();
  });

  it('HTTP path: clients that retry the same events lose nothing and duplicate nothing', async () => {
    // full: the issue's 120,000 events per run
    const minEvents = pick(20_000, 120_000);
    await runStreamScenario(infra, {
      name: 'kill-ingester-http',
      fault: `ingester SIGKILLed ${KILLS}× at random moments (HTTP clients retry the same eventIds)`,
      repetitions: pick(1, 3),
      async run(stack, { random, seed }) {
        let ingester = await stack.start('ingester');
        await stack.start('sequence-builder');
        const source = new EventSource({ seed, maxEvents: minEvents * 2 });
        const load = new HttpLoad(() => ingester.svc.url, (n) => source.events(n), {
          clients: 8,
          batch: 100,
          rate: pick(1_000, 1_500),
          requestTimeoutMs: 5_000,
        }).start();
        const report = await stack.killLoop(ingester, {
          kills: KILLS,
          random,
          minDelayMs: 300,
          maxDelayMs: pick(3_000, 12_000),
          // the moment: 0 to 20 ms after some request reached the ingester (claim, publish, answer)
          aim: async () => {
            if (await load.inFlightNow()) await sleep(Math.floor(random() * 20));
          },
          progressed: ingested(stack, 'http'),
        });
        ingester = stack.member('ingester');
        while (source.taken < minEvents) await sleep(200);
        await load.stop();
        const told = load.summary();
        const failures: string[] = [];
        if (told.undelivered > 0) failures.push(`${told.undelivered} events never got an answer within the clients' patience (240 s)`);
        if (told.rejected > 0) failures.push(`${told.rejected} valid events were answered "rejected"`);
        return {
          expected: load.delivered,
          faults: report.kills,
          raw: false,
          notes: [
            `${report.killedBusy}/${report.kills} kills while ingesting`,
            `told: ${told.accepted} accepted, ${told.duplicate} duplicate`,
            `${load.requests} requests (${load.retries} retries; ${[...load.statuses].map(([k, v]) => `${k}: ${v}`).join(', ')})`,
            `ready after a kill ≤ ${(Math.max(...report.readyMs) / 1000).toFixed(1)} s`,
          ],
          failures,
        };
      },
    });
  });

  it('raw path: exactly-once through every kill', async () => {
    await runStreamScenario(infra, {
      name: 'kill-ingester-raw',
      fault: `ingester SIGKILLed ${KILLS}× at random moments (raw topic, exactly-once)`,
      repetitions: pick(1, 3),
      async run(stack, { random, seed }) {
        const ingester = await stack.start('ingester');
        await stack.start('sequence-builder');
        const source = new EventSource({ seed, maxEvents: pick(60_000, 240_000), duplicateRate: 0.01, malformedRate: 0.005 });
        const load = await new RawLoad(stack.brokers, stack.topic(TOPICS.CLICKSTREAM_RAW), source, { rate: pick(500, 1_000) }).start();
        const report = await stack.killLoop(ingester, {
          kills: KILLS,
          random,
          minDelayMs: 0,
          maxDelayMs: 1_000,
          busyDelayMs: pick(1_500, 8_000),
          progressed: ingested(stack, 'kafka'),
        });
        await load.stop();
        assert.ok(load.sent.length > 0);
        return {
          expected: uniqueValid(load.sent),
          faults: report.kills,
          raw: true,
          notes: [
            `${report.killedBusy}/${report.kills} kills while ingesting`,
            `${load.sent.length} records published (${load.sent.filter((r) => r.kind === 'duplicate').length} producer retries, ${load.sent.filter((r) => r.kind === 'malformed').length} malformed)`,
            `ready after a kill ≤ ${(Math.max(...report.readyMs) / 1000).toFixed(1)} s`,
          ],
        };
      },
    });
  });
});
