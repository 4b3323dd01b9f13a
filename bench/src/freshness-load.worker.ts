/**
 * bench:freshness' load, in a child process (started under `nice` by freshness.bench.ts) so that its
 * CPU work (producing BENCH_RATE generated events a second, and reading the whole events topic back
 * to find the probes' acceptance times) does not delay the bench's probes, whose timings are the
 * measurement. A process rather than a worker thread: librdkafka's Node addon cannot be loaded into
 * a second thread of a process that loaded it (it is not context-aware), and the bench's own thread
 * uses it too.
 *
 * argv[2]: {@link LoadWorkerData} as JSON. Sends (IPC) `{ kind: 'accepted', key, ts }` for every
 * probe key on the events topic, `{ kind: 'ready' }` once consuming, and `{ kind: 'done', sent,
 * seconds }` after a `'stop'` message, then exits.
 *
 * Both ends are librdkafka's native clients (the load must cost little CPU): the producer's
 * delivery reports are polled in librdkafka's background thread and only counted; the reader takes
 * the events topic a thousand messages at a time, read committed (the ingester writes it in
 * transactions in exactly-once mode), from the beginning, without committing.
 */
import { CODES, KafkaConsumer, Producer, type LibrdKafkaError, type Message } from '@confluentinc/kafka-javascript';
import { ClickstreamGenerator, recordToMessage } from '@seqrec/generator';

export interface LoadWorkerData {
  brokers: string[];
  rawTopic: string;
  eventsTopic: string;
  groupId: string;
  rate: number;
  users: number;
  items: number;
}

async function main(): Promise<void> {
  const data = JSON.parse(process.argv[2]!) as LoadWorkerData;
  const port = { postMessage: (m: unknown) => process.send!(m) };
  const common = { 'bootstrap.servers': data.brokers.join(','), 'client.id': 'seqrec-bench-load', log_level: 3 } as const;
  const producer = new Producer({
    ...common,
    acks: 1,
    'allow.auto.create.topics': false,
    // Java's partitioner, as every producer of this project: a user's events on one partition
    partitioner: 'murmur2_random',
    dr_cb: true,
  });
  let delivered = 0;
  let failed = 0;
  producer.on('delivery-report', (err: LibrdKafkaError | null) => (err ? failed++ : delivered++));
  const consumer = new KafkaConsumer(
    {
      ...common,
      'group.id': data.groupId,
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'isolation.level': 'read_committed',
      'fetch.wait.max.ms': 5,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  const logLine = (e: { fac: string; message: string }) => console.error(`[librdkafka load] ${e.fac}: ${e.message}`);
  producer.on('event.log', logLine);
  consumer.on('event.log', logLine);
  await new Promise<void>((resolve, reject) => producer.connect({ timeout: 30_000 }, (err) => (err ? reject(err) : resolve())));
  producer.setPollInBackground(true);
  await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 30_000 }, (err) => (err ? reject(err) : resolve())));
  consumer.subscribe([data.eventsTopic]);
  consumer.setDefaultConsumeTimeout(20);
  let stop = false;
  const reading = (async () => {
    while (!stop) {
      const messages = await new Promise<Message[]>((resolve) => consumer.consume(1_000, (err, ms) => resolve(err ? [] : ms)));
      for (const m of messages) {
        const key = m.key?.toString();
        if (key?.startsWith('probe-')) port.postMessage({ kind: 'accepted', key, ts: m.timestamp });
      }
    }
  })();
  process.on('message', (msg) => {
    if (msg === 'stop') stop = true;
  });
  port.postMessage({ kind: 'ready' });
  const gen = new ClickstreamGenerator({ seed: 5, users: data.users, items: data.items, startTime: Date.now() - 3_600_000 });
  const start = Date.now();
  let sent = 0;
  while (!stop) {
    const due = Math.floor(((Date.now() - start) / 1000) * data.rate) - sent;
    if (due > 0) {
      for (const r of gen.takeRecords(due)) {
        const m = recordToMessage(r);
        try {
          producer.produce(data.rawTopic, null, Buffer.from(m.value), m.key);
        } catch (err) {
          // librdkafka's queue is full (the broker is behind): this round's rest is not sent
          if ((err as LibrdKafkaError).code !== CODES.ERRORS.ERR__QUEUE_FULL) throw err;
          failed++;
        }
      }
      sent += due;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const seconds = (Date.now() - start) / 1000;
  await reading;
  await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  await new Promise<void>((resolve) => producer.flush(10_000, () => resolve()));
  await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
  if (failed > 0) console.error(`[bench:freshness load] ${failed} of ${sent} generated events were not delivered`);
  port.postMessage({ kind: 'done', sent: delivered, seconds });
  process.disconnect();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
