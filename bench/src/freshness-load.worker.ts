/**
 * bench:freshness' load, in a worker thread so that its CPU work (producing BENCH_RATE generated
 * events a second, and reading the whole events topic back to find the probes' acceptance times)
 * does not delay the main thread's probes, whose timings are the measurement.
 *
 * workerData: {@link LoadWorkerData}. Posts `{ kind: 'accepted', key, ts }` for every probe key on
 * the events topic, `{ kind: 'ready' }` once consuming, and `{ kind: 'done', sent }` after a
 * `'stop'` message.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { Kafka, logLevel } from 'kafkajs';
import { ClickstreamGenerator, recordToMessage } from '@seqrec/generator';

export interface LoadWorkerData {
  brokers: string[];
  rawTopic: string;
  eventsTopic: string;
  groupId: string;
  rate: number;
  users: number;
  items: number;
  /** Niceness of this thread (Linux applies setpriority(pid 0) to the calling thread only). */
  nice: number;
}

async function main(): Promise<void> {
  const data = workerData as LoadWorkerData;
  const port = parentPort!;
  // The load stands for producers on other machines: on this shared one it yields the CPU to the
  // pipeline being measured. Acceptance times are Kafka timestamps, so a slower reader does not
  // change them; a starved generator would only send less, which the result reports.
  if (data.nice) setPriority(0, data.nice);
  const kafka = new Kafka({ clientId: 'seqrec-bench-load', brokers: data.brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  const consumer = kafka.consumer({ groupId: data.groupId, maxWaitTimeInMs: 5 });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: data.eventsTopic, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const key = m.key?.toString();
        if (key?.startsWith('probe-')) port.postMessage({ kind: 'accepted', key, ts: Number(m.timestamp) });
      }
    },
  });
  let stop = false;
  port.on('message', (msg) => {
    if (msg === 'stop') stop = true;
  });
  port.postMessage({ kind: 'ready' });
  const gen = new ClickstreamGenerator({ seed: 5, users: data.users, items: data.items, startTime: Date.now() - 3_600_000 });
  const start = Date.now();
  let sent = 0;
  while (!stop) {
    const due = Math.floor(((Date.now() - start) / 1000) * data.rate) - sent;
    if (due > 0) {
      const messages = gen.takeRecords(due).map((r) => recordToMessage(r));
      sent += due;
      await producer.send({ topic: data.rawTopic, acks: 1, messages });
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await consumer.disconnect();
  await producer.disconnect();
  port.postMessage({ kind: 'done', sent, seconds: (Date.now() - start) / 1000 });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
