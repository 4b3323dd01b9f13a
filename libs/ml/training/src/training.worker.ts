/**
 * The child process of {@link trainInChildProcess}: receives one {@link TrainingJob}, runs it with
 * the trainer's own pipeline and sends progress, log lines and the result back, then exits.
 */
import { FsModelStore } from '@seqrec/model-store';
import { TrainingPipeline } from './pipeline';
import type { TrainingJob, TrainingJobMessage } from './training-process';

const send = (msg: TrainingJobMessage) => new Promise<void>((resolve) => process.send!(msg, () => resolve()));

process.once('message', (job: TrainingJob) => {
  void (async () => {
    try {
      const pipeline = new TrainingPipeline(new FsModelStore(job.storeRoot), job.backend);
      const result = await pipeline.run({
        ...job.request,
        progress: false,
        onProgress: (progress) => void send({ type: 'progress', progress }),
        log: (message) => void send({ type: 'log', message }),
      });
      await send({ type: 'result', result });
      process.exit(0);
    } catch (err) {
      await send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
      process.exit(1);
    }
  })();
});
