/**
 * Shared plumbing for the custom layers: the base-class types tfjs-layers does not re-export,
 * shape formatting for error messages, and seeded initialisers.
 */
import type { Tensor } from '@tensorflow/tfjs';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology';
import type { Shape } from '@tensorflow/tfjs-layers/dist/keras_format/common';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables';
import { tf } from '../tf';

export type { LayerArgs, Shape, Kwargs, LayerVariable };

/** `[2, null, 50]` for shapes of tensors or symbolic tensors. */
export function fmtShape(shape: readonly (number | null)[] | undefined): string {
  return shape ? `[${shape.map((d) => (d === null ? 'null' : String(d))).join(', ')}]` : '[?]';
}

/** Same dimension, or either unknown. */
export function dimsMatch(a: number | null | undefined, b: number | null | undefined): boolean {
  return a == null || b == null || a === b;
}

export function assertPositiveInt(layer: string, field: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new RangeError(`${layer}: ${field} must be a positive integer, got ${String(v)}`);
  }
}

export function assertRate(layer: string, field: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) {
    throw new RangeError(`${layer}: ${field} must be in [0, 1), got ${String(v)}`);
  }
}

/** Glorot-uniform initialiser, seeded when `seed` is given (weight k of a layer uses seed + k). */
export function glorot(seed: number | undefined, k: number) {
  return tf.initializers.glorotUniform(seed === undefined ? {} : { seed: seed + k });
}

/** How a layer initialises its kernels and tables: Glorot-uniform, or N(0, 0.02) as BERT/GPT-2 and the SASRec+ code do. */
export type WeightInit = 'glorot' | 'normal';

export const WEIGHT_INITS: readonly WeightInit[] = ['glorot', 'normal'];

/** Standard deviation of the `normal` initialiser. */
export const NORMAL_INIT_STD = 0.02;

/** The initialiser of weight k of a layer for `init` (seeded with seed + k when `seed` is given). */
export function initializer(init: WeightInit, seed: number | undefined, k: number) {
  if (init === 'glorot') return glorot(seed, k);
  return tf.initializers.randomNormal({ mean: 0, stddev: NORMAL_INIT_STD, ...(seed === undefined ? {} : { seed: seed + k }) });
}

export function assertInit(layer: string, v: unknown): asserts v is WeightInit {
  if (!WEIGHT_INITS.includes(v as WeightInit)) throw new RangeError(`${layer}: init must be ${WEIGHT_INITS.join('|')}, got ${String(v)}`);
}

/** The `training` flag of a call (false unless set). */
export function isTraining(kwargs: Kwargs | undefined): boolean {
  return kwargs?.['training'] === true;
}

/** Inputs as a list, checking the count. */
export function inputList(layer: string, inputs: Tensor | Tensor[], n: number): Tensor[] {
  const list = Array.isArray(inputs) ? inputs : [inputs];
  if (list.length !== n) throw new Error(`${layer}: expected ${n} input(s), got ${list.length}`);
  return list;
}

/** Input shapes as a list of shapes. */
export function shapeList(inputShape: Shape | Shape[]): Shape[] {
  return Array.isArray(inputShape[0]) || inputShape.length === 0 ? (inputShape as Shape[]) : [inputShape as Shape];
}

/** Casts to int32 when needed (symbolic inputs may be declared float32 by a caller). */
export function asInt(t: Tensor): Tensor {
  return t.dtype === 'int32' ? t : tf.cast(t, 'int32');
}

/**
 * A layer holding weights with one row per item (row i = item index i, row 0 = padding, so
 * numItems + 1 rows). Every such layer implements this, so that code remapping item rows when the
 * vocabulary changes (warm start) finds them by declaration, never by guessing from shapes.
 */
export interface ItemIndexedLayer {
  /** The weights whose first dimension is indexed by item (built layers only). */
  itemIndexedWeights(): LayerVariable[];
}

/** True when `layer` declares item-indexed weights ({@link ItemIndexedLayer}). */
export function isItemIndexedLayer(layer: object): layer is ItemIndexedLayer {
  return typeof (layer as Partial<ItemIndexedLayer>).itemIndexedWeights === 'function';
}
