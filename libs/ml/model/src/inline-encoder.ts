/**
 * Encoders of one live window at a time with no TF kernel launch (WebAssembly SIMD dot products,
 * the rest in JS), for serving: SASRec (sasrec-simd.ts), GRU4Rec and LSTM (rnn-simd.ts). Each
 * equals the model's TF pass on the same history (tested to 1e-4) and copies the weights when
 * built: build a new one after the weights change.
 */
import type { EncoderConfig } from './config';
import type { SequenceEncoder } from './encoder';
import { RnnSimd } from './rnn-simd';
import { SasrecSimd } from './sasrec-simd';

export interface InlineEncoder {
  /** True when the WebAssembly SIMD kernel runs (false: scalar JS). */
  readonly simd: boolean;
  /** The user vector for a history of item indices 1..N, oldest first (most recent maxLen used). */
  encode(history: ArrayLike<number>, types?: ArrayLike<number>): Float32Array;
}

/**
 * The inline encoder for this model, or null for a model it does not cover (item2vec).
 * @param itemRows the item table ([N + 1] × d) when the caller already holds it in JS memory,
 *   so the encoder shares it instead of copying it again (for the models covered, the scoring
 *   table is the input table)
 */
export function inlineEncoderFor(encoder: SequenceEncoder, itemRows?: Float32Array): InlineEncoder | null {
  const cfg = encoder.config;
  if (cfg.kind === 'sasrec') return new SasrecSimd(cfg as Extract<EncoderConfig, { kind: 'sasrec' }>, encoder.model, false, itemRows);
  if (cfg.kind === 'gru4rec' || cfg.kind === 'lstm') return new RnnSimd(cfg as Extract<EncoderConfig, { kind: 'gru4rec' | 'lstm' }>, encoder.model, false, itemRows);
  return null;
}
