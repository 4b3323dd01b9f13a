import { SeqrecError } from '@seqrec/contracts';

/** Thrown while no model is loaded (answered 503 + Retry-After). */
export class NoModelError extends SeqrecError {
  constructor(model: string) {
    super(`no version of ${model} is loaded yet`, { retriable: true, context: { model } });
    this.name = 'NoModelError';
  }
}
