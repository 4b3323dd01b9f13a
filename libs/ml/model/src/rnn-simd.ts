/**
 * GRU4Rec / LSTM inference for one sequence at a time in WebAssembly SIMD, for serving (see
 * sasrec-simd.ts for why): per step one run of dot products for the input gates and one for the
 * recurrent gates, the gate functions in JS. The TF pass unrolls the recurrence into a dozen
 * kernels per step, so a 50-step window costs hundreds of kernel launches however small the batch.
 *
 * Equations as the `Recurrent` layer (GRU: the cuDNN/PyTorch variant; gate order r, z, n and
 * i, f, g, o). Left padding leaves the state at zero in the layer, so an unpadded sequence from a
 * zero state is the same computation. Item ids must be 1..N; the weights are copied at
 * construction.
 */
import type { LayersModel } from '@tensorflow/tfjs';
import type { EncoderConfig } from './config';
import { layerWeights, pad8, SimdKernel } from './simd-dot';

type RnnConfig = Extract<EncoderConfig, { kind: 'gru4rec' | 'lstm' }>;

export class RnnSimd {
  private readonly k: SimdKernel;
  private readonly m: Float32Array;
  private readonly gru: boolean;
  private readonly d: number;
  private readonly D: number;
  private readonly u: number;
  private readonly U: number;
  private readonly g: number;
  private readonly items: Float32Array;
  private readonly types: Float32Array | null;
  private readonly bias: Float32Array;
  private readonly recurrentBias: Float32Array | null;
  private readonly projection: { rows: number; bias: Float32Array } | null;
  // offsets
  private readonly WT: number;
  private readonly UT: number;
  private readonly X: number;
  private readonly H: number;
  private readonly XW: number;
  private readonly HW: number;
  private readonly OUT: number;
  private readonly C: Float32Array;

  constructor(
    readonly config: RnnConfig,
    model: LayersModel,
    scalar = false,
    /** The item table in JS memory, shared instead of copied (else read from the model). */
    itemRows?: Float32Array,
  ) {
    this.gru = config.kind === 'gru4rec';
    const d = config.dim;
    const u = config.units;
    this.d = d;
    this.D = pad8(d);
    this.u = u;
    this.U = pad8(u);
    this.g = (this.gru ? 3 : 4) * u;
    const { D, U, g } = this;
    const w = (name: string, skip?: number) => layerWeights(model, name, skip);
    const emb = w('item_embedding', itemRows ? 0 : -1);
    this.items = itemRows ?? emb[0]!;
    if (this.items.length !== (config.numItems + 1) * config.dim) throw new RangeError(`item table has ${this.items.length} values, expected ${config.numItems + 1} × ${config.dim}`);
    this.types = config.numTypes > 0 ? emb[1]! : null;
    const rnn = w(this.gru ? 'gru' : 'lstm');
    const [kernel, recurrent, bias] = rnn as [Float32Array, Float32Array, Float32Array];
    this.bias = bias;
    this.recurrentBias = this.gru ? rnn[3]! : null;
    const proj = u !== d ? w('projection') : null;
    const floats = g * D + g * U + (proj ? d * U : 0) + D + U + g + g + D;
    this.k = new SimdKernel(floats, scalar);
    this.m = this.k.f32;
    let at = 0;
    const rows = (src: Float32Array, dIn: number, dOut: number, stride: number): number => {
      const off = at;
      at = this.k.putRows(at, src, dIn, dOut, stride);
      return off;
    };
    this.WT = rows(kernel, d, g, D);
    this.UT = rows(recurrent, u, g, U);
    this.projection = proj ? { rows: rows(proj[0]!, u, d, U), bias: proj[1]! } : null;
    this.X = at;
    this.H = this.X + D;
    this.XW = this.H + U;
    this.HW = this.XW + g;
    this.OUT = this.HW + g;
    this.C = new Float32Array(u);
  }

  get simd(): boolean {
    return this.k.simd;
  }

  /** The last hidden state (projected to `dim` when units ≠ dim) for a history of item ids 1..N. */
  encode(history: ArrayLike<number>, types?: ArrayLike<number>): Float32Array {
    const { m, d, u, g, config } = this;
    if (this.types && !types) throw new Error(`${config.kind}: this model needs event types`);
    const n = Math.min(history.length, config.maxLen);
    const from = history.length - n;
    const h = this.H;
    const c = this.C;
    for (let j = 0; j < u; j++) m[h + j] = 0;
    c.fill(0);
    for (let t = 0; t < n; t++) {
      const id = history[from + t]!;
      if (!(id >= 1 && id <= config.numItems)) throw new RangeError(`${config.kind}: item index ${id} is not in 1..${config.numItems}`);
      for (let j = 0; j < d; j++) m[this.X + j] = this.items[id * d + j]!;
      if (this.types) {
        const ty = types![from + t]!;
        for (let j = 0; j < d; j++) m[this.X + j] += this.types[ty * d + j]!;
      }
      this.k.dots(this.X, this.WT, g, this.D, this.XW);
      this.k.dots(h, this.UT, g, this.U, this.HW);
      const xw = this.XW;
      const hw = this.HW;
      if (this.gru) {
        const rb = this.recurrentBias!;
        for (let j = 0; j < u; j++) {
          const r = sigmoid(m[xw + j]! + this.bias[j]! + m[hw + j]! + rb[j]!);
          const z = sigmoid(m[xw + u + j]! + this.bias[u + j]! + m[hw + u + j]! + rb[u + j]!);
          const nn = Math.tanh(m[xw + 2 * u + j]! + this.bias[2 * u + j]! + r * (m[hw + 2 * u + j]! + rb[2 * u + j]!));
          // h is read by the recurrent products above only: updating it in place is safe.
          m[h + j] = nn + z * (m[h + j]! - nn);
        }
      } else {
        for (let j = 0; j < u; j++) {
          const i = sigmoid(m[xw + j]! + this.bias[j]! + m[hw + j]!);
          const f = sigmoid(m[xw + u + j]! + this.bias[u + j]! + m[hw + u + j]!);
          const gg = Math.tanh(m[xw + 2 * u + j]! + this.bias[2 * u + j]! + m[hw + 2 * u + j]!);
          const o = sigmoid(m[xw + 3 * u + j]! + this.bias[3 * u + j]! + m[hw + 3 * u + j]!);
          c[j] = f * c[j]! + i * gg;
          m[h + j] = o * Math.tanh(c[j]!);
        }
      }
    }
    if (!this.projection) return m.slice(h, h + d);
    this.k.dots(h, this.projection.rows, d, this.U, this.OUT);
    const out = new Float32Array(d);
    for (let j = 0; j < d; j++) out[j] = m[this.OUT + j]! + this.projection.bias[j]!;
    return out;
  }
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

