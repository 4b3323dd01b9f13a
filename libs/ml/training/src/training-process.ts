/**
 * A training run in a child process. tfjs-node runs each kernel on the thread that calls it, so a
 * run in a serving process would block its event loop for seconds at a time; the child runs the
 * same {@link TrainingPipeline} on its own event loop (and its own TensorFlow thread pool) and
 * reports progress, log lines and the result over IPC. The parent and the child share the model
 * store through the file system: the child writes and promotes the version, the parent announces it.
 */
import { fork } from 'node:child_process';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import type { BackendSettings, TrainProgress } from '@seqrec/model';
import type { TrainingRequest, TrainingResult } from './pipeline';

/** The part of a {@link TrainingRequest} that crosses the process boundary (no callbacks, no streams). */
export type PortableTrainingRequest = Pick<TrainingRequest, 'source' | 'model' | 'options' | 'name' | 'promote' | 'warmStart' | 'content'>;

/** Parent → child: the one message a child receives. */
export interface TrainingJob {
  storeRoot: string;
  backend?: BackendSettings;
  request: PortableTrainingRequest;
}

/** Child → parent. */
export type TrainingJobMessage =
  | { type: 'progress'; progress: TrainProgress }
  | { type: 'log'; message: string }
  | { type: 'result'; result: TrainingResult }
  | { type: 'error'; message: string };

export interface ChildTrainingOptions {
  onProgress?: (p: TrainProgress) => void;
  log?: (msg: string) => void;
  /**
   * Scheduling priority of the child (-20..19, higher is nicer; default 10): on a machine shared
   * with serving, the kernel gives the serving threads the cores first.
   */
  niceness?: number;
}

/** Runs one training job in a child process; resolves with its result, rejects with its error or exit. */
export function trainInChildProcess(job: TrainingJob, options: ChildTrainingOptions = {}): Promise<TrainingResult> {
  return new Promise((resolve, reject) => {
    // execArgv: none of the parent's flags (a test runner's, an inspector's) belong to the child.
    const child = fork(join(__dirname, 'training.worker.js'), [], { serialization: 'advanced', execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    try {
      if (child.pid !== undefined) setPriority(child.pid, options.niceness ?? 10);
    } catch {
      // not permitted (e.g. a container without CAP_SYS_NICE for negative values): run at the parent's priority
    }
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
    };
    child.on('message', (msg: TrainingJobMessage) => {
      switch (msg.type) {
        case 'progress':
          options.onProgress?.(msg.progress);
          break;
        case 'log':
          options.log?.(msg.message);
          break;
        case 'result':
          settle(() => resolve(msg.result));
          break;
        case 'error':
          settle(() => reject(new Error(msg.message)));
          break;
      }
    });
    child.on('error', (err) => settle(() => reject(err)));
    child.on('exit', (code, signal) => settle(() => reject(new Error(`training process exited (${signal ?? `code ${code}`}) before reporting a result`))));
    child.send(job);
  });
}
