/**
 * SIGKILL loop on the sequence-builder under load (raw topic → ingester → events topic): a killed
 * builder may have written windows whose offsets it never committed; its successor gets them again
 * and must skip what was applied (the window's watermark). Oracle: every accepted event on the
 * events topic exactly once and in its user's window exactly once.
 */
import { after, before, describe, it } from 'node:test';
import { TOPICS } from '@seqrec/contracts';
import { announce, pick } from './lib/config';
import { FaultInfra } from './lib/infra';
import { EventSource, RawLoad, uniqueValid } from './lib/load';
import { runStreamScenario } from './lib/scenario';

announce('kill-builder');

describe('fault: sequence-builder SIGKILLed at random moments', () => {
  let infra: FaultInfra;
  before(async () => {
    infra = await FaultInfra.acquire();
  });
  after(async () => {
    await infra?.release();
  });

  it('applies every event exactly once through every kill', async () => {
    const kills = pick(10, 12);
    await runStreamScenario(infra, {
      name: 'kill-builder',
      fault: `sequence-builder SIGKILLed ${kills}× at random moments`,
      repetitions: pick(1, 3),
      async run(stack, { random, seed }) {
        await stack.start('ingester');
        const builder = await stack.start('sequence-builder');
        const source = new EventSource({ seed, maxEvents: pick(60_000, 240_000), duplicateRate: 0.01 });
        const load = await new RawLoad(stack.brokers, stack.topic(TOPICS.CLICKSTREAM_RAW), source, { rate: pick(800, 1_200) }).start();
        const report = await stack.killLoop(builder, {
          kills,
          random,
          minDelayMs: 0,
          maxDelayMs: 1_000,
          busyDelayMs: pick(1_500, 8_000),
          progressed: async (m) => (await stack.metric(m, 'seqrec_sequence_builder_events_total', { outcome: 'applied' })) > 0,
        });
        await load.stop();
        return {
          expected: uniqueValid(load.sent),
          faults: report.kills,
          raw: true,
          notes: [
            `${report.killedBusy}/${report.kills} kills while applying`,
            `${load.sent.length} records published`,
            `ready after a kill ≤ ${(Math.max(...report.readyMs) / 1000).toFixed(1)} s`,
          ],
        };
      },
    });
  });
});
