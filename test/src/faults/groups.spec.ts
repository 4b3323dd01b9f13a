/**
 * Consumer groups change under load:
 * - both stream groups (ingester, sequence-builder) scale 1 → 3 → 1, with one member of each
 *   SIGKILLed and one paused (SIGSTOP) until the group has moved on without it, then resumed: a
 *   zombie that wakes up mid-batch must be fenced (ingester: KIP-447; builder: the windows'
 *   compare-and-set and watermarks) before it rejoins and leaves;
 * - the partition count of the raw and events topics is raised under load, the ingester rolled
 *   (so it produces to the new partitions), with sequence-builder crashes after it;
 * - the ingester group's offsets are reset to the beginning of the raw topic (an operator's
 *   replay) while the load goes on.
 * Oracle: every accepted event on the events topic exactly once and in its window exactly once.
 */
import { after, before, describe, it } from 'node:test';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { GROUPS, TOPICS } from '@seqrec/contracts';
import { KafkaAdmin } from '@seqrec/kafka';
import { resetGroupOffsets, testKafka, waitFor } from '@seqrec/kafka/testing';
import { announce, between, pick, sleep } from './lib/config';
import { FaultInfra } from './lib/infra';
import { EventSource, RawLoad, uniqueValid } from './lib/load';
import type { StreamVerdict } from './lib/oracle';
import { runStreamScenario } from './lib/scenario';
import type { Member, Stack } from './lib/stack';

announce('groups');

/** Members of a consumer group as the coordinator sees them (-1 while it cannot say). */
async function groupSize(stack: Stack, group: string): Promise<number> {
  const admin = testKafka('seqrec-faults-admin', stack.brokers).admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([stack.group(group)], { timeout: 5_000 });
    const g = groups[0];
    return g && !g.error && g.state === KafkaJS.ConsumerGroupStates.STABLE ? g.members.length : -1;
  } catch {
    return -1;
  } finally {
    await admin.disconnect();
  }
}

const alive = (m: Member) => m.svc.proc.exitCode === null && m.svc.proc.signalCode === null;

describe('fault: consumer groups change under load', () => {
  let infra: FaultInfra;
  before(async () => {
    infra = await FaultInfra.acquire();
  });
  after(async () => {
    await infra?.release();
  });

  it('groups scale 1 → 3 → 1 with a member SIGKILLed and a zombie (paused, then resumed)', async () => {
    await runStreamScenario(infra, {
      name: 'group-scale-zombie',
      fault: 'ingester and builder groups 1 → 3 → 1; one member of each SIGKILLed, one paused past the session timeout and resumed',
      repetitions: pick(1, 3),
      stack: { partitions: 6 },
      async run(stack, { random, seed }) {
        const groups = [
          { app: 'ingester' as const, group: GROUPS.INGESTER },
          { app: 'sequence-builder' as const, group: GROUPS.SEQUENCE_BUILDER },
        ];
        const members = new Map<string, Member[]>();
        for (const g of groups) members.set(g.app, [await stack.start(g.app)]);
        const source = new EventSource({ seed, maxEvents: pick(60_000, 150_000), duplicateRate: 0.01 });
        const load = await new RawLoad(stack.brokers, stack.topic(TOPICS.CLICKSTREAM_RAW), source, { rate: pick(800, 1_000) }).start();
        const notes: string[] = [];
        const t0 = Date.now();
        const at = (what: string) => notes.push(`${what} at ${((Date.now() - t0) / 1000).toFixed(0)} s`);
        try {
          await sleep(between(random, 2_000, 4_000));
          // 1 → 3
          await Promise.all(groups.map(async (g) => members.get(g.app)!.push(await stack.start(g.app), await stack.start(g.app))));
          for (const g of groups) await waitFor(`${g.group} to have 3 members`, async () => (await groupSize(stack, g.group)) === 3, 60_000);
          at('3 members each');
          await sleep(between(random, 2_000, 5_000));
          // one SIGKILLed, one paused: the group goes on with the third
          const zombies: Member[] = [];
          for (const g of groups) {
            const list = members.get(g.app)!;
            const k = between(random, 0, 2);
            const z = (k + 1 + between(random, 0, 1)) % 3;
            await stack.signal(list[k]!, 'SIGKILL');
            await stack.signal(list[z]!, 'SIGSTOP');
            zombies.push(list[z]!);
          }
          at('one killed and one paused per group');
          for (const g of groups) await waitFor(`${g.group} to go on with 1 member`, async () => (await groupSize(stack, g.group)) === 1, 90_000);
          at('1 member each');
          await sleep(between(random, 2_000, 5_000));
          for (const z of zombies) await stack.signal(z, 'SIGCONT');
          at('zombies resumed');
          await sleep(between(random, 3_000, 6_000));
          const crashed = zombies.filter((z) => !alive(z)).map((z) => z.app);
          if (crashed.length) notes.push(`resumed zombies that exited: ${crashed.join(', ')}`);
          // 3 → 1: the zombies leave (SIGTERM), the killed ones stay dead
          for (const z of zombies) if (alive(z)) await stack.retire(z);
          for (const g of groups) await waitFor(`${g.group} to be back to 1 member`, async () => (await groupSize(stack, g.group)) === 1, 90_000);
          at('back to 1 member each');
          await sleep(between(random, 2_000, 4_000));
        } finally {
          await load.stop();
        }
        return { expected: uniqueValid(load.sent), faults: 4, raw: true, notes };
      },
    });
  });

  it('partition count raised under load, with sequence-builder crashes after it', async () => {
    const crashes = pick(4, 10);
    await runStreamScenario(infra, {
      name: 'partitions-raised',
      fault: `raw and events topics 3 → 6 partitions under load, ingester rolled, sequence-builder SIGKILLed ${crashes}× after it (once between its window writes and its commit)`,
      repetitions: pick(1, 3),
      stack: { partitions: 3 },
      async run(stack, { random, seed }) {
        const ingester = await stack.start('ingester');
        const builder = await stack.start('sequence-builder');
        // few users, many events each: most users have events on both sides of the move
        const source = new EventSource({ seed, maxEvents: 6_000 });
        let load = await new RawLoad(stack.brokers, stack.topic(TOPICS.CLICKSTREAM_RAW), source, { rate: pick(800, 1_000) }).start();
        const sent = load.sent;
        const notes: string[] = [];
        try {
          await sleep(between(random, 3_000, 6_000));
          const admin = new KafkaAdmin(stack.brokers);
          try {
            for (const t of [TOPICS.CLICKSTREAM_RAW, TOPICS.EVENTS]) await admin.createPartitions(stack.topic(t), 6);
          } finally {
            await admin.disconnect();
          }
          // The builder crashes while users' events start moving to new partitions: the old
          // ingester still writes them to the old ones for a few seconds, then it is rolled (a new
          // process sees 6 partitions: its users move) and so is the producer ...
          await stack.signal(builder, 'SIGKILL');
          await sleep(between(random, 8_000, 12_000));
          await stack.retire(ingester);
          await stack.start('ingester');
          await load.stop();
          load = await new RawLoad(stack.brokers, stack.topic(TOPICS.CLICKSTREAM_RAW), source, { rate: pick(800, 1_000) }).start();
          await sleep(between(random, 4_000, 6_000));
          // ... the builder comes back to a backlog on old and new partitions, and crashes between
          // writing a batch's windows and committing its offsets: the broker is paused while it
          // works through the backlog (after a random 2,000 to 6,000 applied events: the batch in
          // hand is written to Redis, its commit waits), it is SIGKILLed, the broker resumes ...
          await stack.restart(builder);
          const applied = async () => stack.metric(builder, 'seqrec_sequence_builder_events_total', { outcome: 'applied' }).catch(() => 0);
          const until = Date.now() + 60_000;
          const pauseAfter = between(random, 2_000, 6_000);
          while ((await applied()) < pauseAfter && Date.now() < until) await sleep(2);
          infra.pauseKafka();
          try {
            await sleep(1_500);
            await stack.signal(builder, 'SIGKILL');
          } finally {
            infra.resumeKafka();
          }
          await stack.restart(builder);
          const stale = () => stack.metric(builder, 'seqrec_sequence_builder_events_total', { outcome: 'stale' }).catch(() => 0);
          await waitFor('the restarted builder to apply events', async () => (await applied()) > 0, 60_000).catch(() => undefined);
          await sleep(2_000);
          notes.push(`${await stale()} events redelivered after the held commit were skipped as already applied`);
          // ... and crashes again at random moments while it works.
          const report = await stack.killLoop(builder, {
            kills: crashes - 2,
            random,
            minDelayMs: 0,
            maxDelayMs: 500,
            busyDelayMs: 1_500,
            progressed: async (m) => (await stack.metric(m, 'seqrec_sequence_builder_events_total', { outcome: 'applied' })) > 0,
          });
          notes.push(`builder SIGKILLed ${crashes}× (once with its commit held by a paused broker; ${report.killedBusy} of the ${report.kills} others while applying)`);
          await sleep(between(random, 2_000, 4_000));
        } finally {
          await load.stop();
        }
        return { expected: uniqueValid([...sent, ...load.sent]), faults: crashes + 1, raw: true, notes };
      },
      explain: (verdicts: StreamVerdict[]) =>
        verdicts.some((v) => v.windows.extra > 0 && v.topic.duplicated === 0 && v.topic.lost === 0 && v.windows.lost === 0)
          ? 'KNOWN LIMITATION (issue 17, part 3): events applied twice to windows after the partition count grew. Each window keeps ONE partition\'s ' +
            'watermark; once a user\'s events arrive on two partitions, a redelivery after a builder crash re-applies the events of the partition that ' +
            'is not the watermark\'s (the events topic itself holds each event once). The extra events below name their positions (partition@offset).'
          : undefined,
    });
  });

  it("ingester group's offsets reset to the beginning while the load goes on", async () => {
    await runStreamScenario(infra, {
      name: 'ingester-offsets-reset',
      fault: "ingester group's offsets reset to the beginning of the raw topic (a replay)",
      repetitions: pick(1, 3),
      async run(stack, { random, seed }) {
        const ingester = await stack.start('ingester');
        await stack.start('sequence-builder');
        const source = new EventSource({ seed, maxEvents: pick(30_000, 100_000), duplicateRate: 0.01 });
        const load = await new RawLoad(stack.brokers, stack.topic(TOPICS.CLICKSTREAM_RAW), source, { rate: pick(800, 1_000) }).start();
        let replayed = 0;
        try {
          await sleep(between(random, 4_000, 8_000));
          await stack.retire(ingester);
          await resetGroupOffsets(stack.brokers, { groupId: stack.group(GROUPS.INGESTER), topic: stack.topic(TOPICS.CLICKSTREAM_RAW), timeoutMs: 60_000 });
          replayed = load.sent.length;
          await stack.start('ingester');
          await sleep(between(random, 4_000, 8_000));
        } finally {
          await load.stop();
        }
        return { expected: uniqueValid(load.sent), faults: 1, raw: true, notes: [`offsets reset with about ${replayed} records on the raw topic`] };
      },
    });
  });
});
