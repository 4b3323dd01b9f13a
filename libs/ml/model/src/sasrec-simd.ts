/**
 * SASRec's inference pass for one sequence at a time in WebAssembly SIMD: the one fast SASRec
 * inference path (the scorer's live windows, the embedding service's batches); training and the
 * batched TF passes use the LayersModel. The same mathematics as the model's last position (last
 * block at the last position only, layer-norm γ/β and the 1/√dk scale folded into the following
 * kernels), but every matrix product is a run of dot products by the {@link SimdKernel}, with no TF
 * kernel launches (~100 per pass) and no batch to wait for. A 50-event window through 2 blocks of width 64 is ~1.5 M multiply-adds: a few hundred
 * microseconds, where a micro-batched TF pass costs milliseconds of dispatch however small it is.
 *
 * A sequence is taken unpadded: with left padding masked out, a real item's state does not
 * depend on the padding, so this equals the TF pass on any padded batch (tested to 1e-4).
 * Item ids must be 1..N (callers drop unknown items first). The weights are copied at
 * construction: build a new instance after the weights change.
 *
 * The `sasrec` block layout (queries from LN(x), keys and values from x, residuals from the
 * normalised states) keeps the key/value and feed-forward kernels unfolded and applies γ/β where
 * the residual needs the normalised state itself.
 *
 * Workspace layout (floats; D = dim padded to 8, DK = head width padded to 8, LP = maxLen padded
 * to 8, IP = inner width padded to 8), kernels stored as rows = output units:
 *   per block: qkvT [3d × D] (query rows pre-scaled), oT [d × D], f1T [inner × D], f2T [d × IP];
 *   scratch: X, H [L × D] states and normalised states, QKV [L × 3d + D], K [h × L × DK],
 *   VT [h × dk × LP], P [LP], A [D], F [IP + D], Y [D], S [LP].
 */
import type { LayersModel } from '@tensorflow/tfjs';
import type { EncoderConfig } from './config';
import { layerWeights, pad8, SimdKernel } from './simd-dot';

type SasrecConfig = Extract<EncoderConfig, { kind: 'sasrec' }>;

interface Block {
  qkvT: number;
  qkvBias: Float32Array;
  oT: number;
  oBias: Float32Array;
  f1T: number;
  f1Bias: Float32Array;
  f2T: number;
  f2Bias: Float32Array;
  /** `sasrec` layout: the attention and feed-forward layer norms' γ and β (null: folded, `pre-ln`). */
  ln: { g1: Float32Array; b1: Float32Array; g2: Float32Array; b2: Float32Array } | null;
}

export class SasrecSimd {
  private readonly k: SimdKernel;
  private readonly m: Float32Array;
  private readonly d: number;
  private readonly D: number;
  private readonly h: number;
  private readonly dk: number;
  private readonly DK: number;
  private readonly L: number;
  private readonly LP: number;
  private readonly inner: number;
  private readonly IP: number;
  private readonly eps: number;
  private readonly items: Float32Array;
  private readonly positions: Float32Array;
  private readonly types: Float32Array | null;
  private readonly blocks: Block[] = [];
  private readonly finalGamma: Float32Array;
  private readonly finalBeta: Float32Array;
  // scratch offsets
  private readonly X: number;
  private readonly H: number;
  private readonly QKV: number;
  private readonly K: number;
  private readonly VT: number;
  private readonly P: number;
  private readonly A: number;
  private readonly F: number;
  private readonly Y: number;
  private readonly S: number;

  constructor(
    readonly config: SasrecConfig,
    model: LayersModel,
    scalar = false,
    /** The item table in JS memory, shared instead of copied (else read from the model). */
    itemRows?: Float32Array,
  ) {
    const d = config.dim;
    this.d = d;
    this.D = pad8(d);
    this.h = config.heads;
    this.dk = d / config.heads;
    this.DK = pad8(this.dk);
    this.L = config.maxLen;
    this.LP = pad8(config.maxLen);
    this.inner = config.innerDim;
    this.IP = pad8(config.innerDim);
    this.eps = config.layerNormEps;
    const { D, DK, L, LP, IP, h, dk, inner } = this;
    const w = (name: string, skip?: number) => layerWeights(model, name, skip);
    const emb = w('item_embedding', itemRows ? 0 : -1);
    this.items = itemRows ?? emb[0]!;
    if (this.items.length !== (config.numItems + 1) * config.dim) throw new RangeError(`item table has ${this.items.length} values, expected ${config.numItems + 1} × ${config.dim}`);
    this.positions = emb[1]!;
    this.types = config.numTypes > 0 ? emb[2]! : null;
    const perBlock = 3 * d * D + d * D + inner * D + d * IP;
    const scratch = 2 * L * D + L * 3 * d + D + h * L * DK + h * dk * LP + LP + D + IP + D + D + LP;
    this.k = new SimdKernel(config.blocks * perBlock + scratch, scalar);
    this.m = this.k.f32;
    let at = 0;
    const scale = 1 / Math.sqrt(dk);
    // A kernel's rows in the workspace, each input row i scaled by gamma[i] (the layer norm folded
    // in) and each output o by colScale(o); returns the offset.
    const rows = (kernel: Float32Array, dIn: number, dOut: number, stride: number, gamma: Float32Array | null, colScale: (o: number) => number): number => {
      const off = at;
      at = this.k.putRows(at, kernel, dIn, dOut, stride, (i, o) => (gamma ? gamma[i]! : 1) * colScale(o));
      return off;
    };
    // β·W + b for a kernel following a layer norm with shift beta.
    const foldBias = (kernel: Float32Array, dIn: number, dOut: number, beta: Float32Array, bias: Float32Array, colScale: (o: number) => number) =>
      Float32Array.from({ length: dOut }, (_, o) => {
        let s = 0;
        for (let i = 0; i < dIn; i++) s += beta[i]! * kernel[i * dOut + o]!;
        return (s + bias[o]!) * colScale(o);
      });
    for (let b = 0; b < config.blocks; b++) {
      const [qk, qb, kk, kb, vk, vb, ok, ob] = w(`block${b}_attention`) as Float32Array[];
      const [g1, be1] = w(`block${b}_ln_attention`) as Float32Array[];
      const [k1, b1, k2, b2] = w(`block${b}_ffn`) as Float32Array[];
      const [g2, be2] = w(`block${b}_ln_ffn`) as Float32Array[];
      // Fused [d, 3d] kernel: query (scaled) | key | value.
      const qkv = new Float32Array(d * 3 * d);
      for (let i = 0; i < d; i++) {
        for (let o = 0; o < d; o++) {
          qkv[i * 3 * d + o] = qk![i * d + o]!;
          qkv[i * 3 * d + d + o] = kk![i * d + o]!;
          qkv[i * 3 * d + 2 * d + o] = vk![i * d + o]!;
        }
      }
      const qkvB = Float32Array.from({ length: 3 * d }, (_, o) => (o < d ? qb![o]! : o < 2 * d ? kb![o - d]! : vb![o - 2 * d]!));
      const qScale = (o: number) => (o < d ? scale : 1);
      if (config.layout === 'sasrec') {
        // Query rows read LN(x) (γ folded, β into the bias, scaled); key and value rows read x itself.
        const qkvT = at;
        at = this.k.putRows(at, qkv, d, 3 * d, D, (i, o) => (o < d ? g1![i]! * scale : 1));
        const qBias = foldBias(qk!, d, d, be1!, qb!, () => scale);
        this.blocks.push({
          qkvT,
          qkvBias: Float32Array.from({ length: 3 * d }, (_, o) => (o < d ? qBias[o]! : qkvB[o]!)),
          oT: rows(ok!, d, d, D, null, () => 1),
          oBias: ob!,
          f1T: rows(k1!, d, inner, D, null, () => 1),
          f1Bias: b1!,
          f2T: rows(k2!, inner, d, IP, null, () => 1),
          f2Bias: b2!,
          ln: { g1: g1!, b1: be1!, g2: g2!, b2: be2! },
        });
        continue;
      }
      this.blocks.push({
        qkvT: rows(qkv, d, 3 * d, D, g1!, qScale),
        qkvBias: foldBias(qkv, d, 3 * d, be1!, qkvB, qScale),
        oT: rows(ok!, d, d, D, null, () => 1),
        oBias: ob!,
        f1T: rows(k1!, d, inner, D, g2!, () => 1),
        f1Bias: foldBias(k1!, d, inner, be2!, b1!, () => 1),
        f2T: rows(k2!, inner, d, IP, null, () => 1),
        f2Bias: b2!,
        ln: null,
      });
    }
    const [gf, bf] = w('final_ln');
    this.finalGamma = gf!;
    this.finalBeta = bf!;
    this.X = at;
    this.H = this.X + L * D;
    this.QKV = this.H + L * D;
    this.K = this.QKV + L * 3 * d + D; // + D: the last query row is read DK wide
    this.VT = this.K + h * L * DK;
    this.P = this.VT + h * dk * LP;
    this.A = this.P + LP;
    this.F = this.A + D;
    this.Y = this.F + IP + D;
    this.S = this.Y + D;
  }

  /** True when the WebAssembly SIMD kernel runs (false: scalar JS). */
  get simd(): boolean {
    return this.k.simd;
  }

  /**
   * The user vector (the final state at the last position) for a history of item ids 1..N, oldest
   * first; the most recent `maxLen` are used. `types` (event type per item) when the model has them.
   */
  encode(history: ArrayLike<number>, types?: ArrayLike<number>): Float32Array {
    const { m, d, D, L, config } = this;
    const n = Math.min(history.length, L);
    const from = history.length - n;
    if (this.types && !types) throw new Error('sasrec: this model needs event types');
    const out = new Float32Array(d);
    if (n === 0) {
      // All padding: the last state is zero, the final layer norm leaves β.
      out.set(this.finalBeta);
      return out;
    }
    // Embeddings: item · √d + position (+ event type).
    const sqrtD = Math.sqrt(d);
    const numItems = config.numItems;
    for (let t = 0; t < n; t++) {
      const id = history[from + t]!;
      if (!(id >= 1 && id <= numItems)) throw new RangeError(`sasrec: item index ${id} is not in 1..${numItems}`);
      const x = this.X + t * D;
      const p = (config.positions === 'start' ? t : L - n + t) * d;
      for (let j = 0; j < d; j++) m[x + j] = this.items[id * d + j]! * sqrtD + this.positions[p + j]!;
      if (this.types) {
        const ty = types![from + t]!;
        for (let j = 0; j < d; j++) m[x + j] += this.types[ty * d + j]!;
      }
    }
    const last = this.blocks.length - 1;
    for (let b = 0; b < last; b++) this.fullBlock(this.blocks[b]!, n);
    this.lastBlock(this.blocks[last]!, n);
    // Final layer norm of the last state (in Y).
    this.normalise(this.Y, this.Y);
    for (let j = 0; j < d; j++) out[j] = m[this.Y + j]! * this.finalGamma[j]! + this.finalBeta[j]!;
    return out;
  }

  /** dst[0..d) = (src − mean) / √(var + eps) over d values (γ, β folded into the next kernel). */
  private normalise(src: number, dst: number): void {
    const { m, d } = this;
    let mean = 0;
    for (let j = 0; j < d; j++) mean += m[src + j]!;
    mean /= d;
    let v = 0;
    for (let j = 0; j < d; j++) {
      const c = m[src + j]! - mean;
      v += c * c;
    }
    const r = 1 / Math.sqrt(v / d + this.eps);
    for (let j = 0; j < d; j++) m[dst + j] = (m[src + j]! - mean) * r;
  }

  /** out[0..count) = dots(src, rows) + bias. */
  private dense(src: number, rows: number, count: number, len: number, bias: Float32Array, out: number, relu = false): void {
    this.k.dots(src, rows, count, len, out);
    const m = this.m;
    for (let o = 0; o < count; o++) {
      const v = m[out + o]! + bias[o]!;
      m[out + o] = relu && v < 0 ? 0 : v;
    }
  }

  /**
   * Normalised states H of positions 0..n-1, and their keys and values into K and VT (from H, or
   * from the states X themselves in the `sasrec` layout); the queries too when `withQuery`.
   */
  private keysValues(w: Block, n: number, withQuery: boolean): void {
    const { m, d, D, h, dk, DK, L, LP } = this;
    for (let t = 0; t < n; t++) {
      this.normalise(this.X + t * D, this.H + t * D);
      const qkv = this.QKV + t * 3 * d;
      if (withQuery && !w.ln) this.dense(this.H + t * D, w.qkvT, 3 * d, D, w.qkvBias, qkv);
      else {
        if (withQuery) this.dense(this.H + t * D, w.qkvT, d, D, w.qkvBias, qkv);
        // Keys and values: rows d..3d of the fused kernel.
        this.k.dots(w.ln ? this.X + t * D : this.H + t * D, w.qkvT + d * D, 2 * d, D, qkv + d);
        for (let o = d; o < 3 * d; o++) m[qkv + o] = m[qkv + o]! + w.qkvBias[o]!;
      }
      for (let hh = 0; hh < h; hh++) {
        const kRow = this.K + (hh * L + t) * DK;
        for (let c = 0; c < dk; c++) {
          m[kRow + c] = m[qkv + d + hh * dk + c]!;
          m[this.VT + (hh * dk + c) * LP + t] = m[qkv + 2 * d + hh * dk + c]!;
        }
      }
    }
  }

  /** Attention of a query (at `q`, all heads side by side) over keys 0..upTo-1, into A. */
  private attend(q: number, upTo: number): void {
    const { m, h, dk, DK, L, LP } = this;
    for (let hh = 0; hh < h; hh++) {
      // The query slice is read DK wide; the key rows' padding is zero, so what follows it adds 0.
      let qh = q + hh * dk;
      if (DK !== dk) {
        for (let c = 0; c < dk; c++) m[this.F + c] = m[q + hh * dk + c]!;
        for (let c = dk; c < DK; c++) m[this.F + c] = 0;
        qh = this.F;
      }
      this.k.dots(qh, this.K + hh * L * DK, upTo, DK, this.S);
      let max = -Infinity;
      for (let j = 0; j < upTo; j++) max = Math.max(max, m[this.S + j]!);
      let sum = 0;
      for (let j = 0; j < upTo; j++) {
        const e = Math.exp(m[this.S + j]! - max);
        m[this.P + j] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let j = 0; j < upTo; j++) m[this.P + j] = m[this.P + j]! * inv;
      for (let j = upTo; j < LP; j++) m[this.P + j] = 0;
      this.k.dots(this.P, this.VT + hh * dk * LP, dk, LP, this.A + hh * dk);
    }
  }

  /**
   * `pre-ln`: x += o(attn) then x += ffn(norm(x)). `sasrec`: x = LN₁(x) + o(attn), then
   * x = LN₂(x) + ffn(LN₂(x)); `hn` is the normalised state of x before the block. The attention
   * output is already in A.
   */
  private residuals(w: Block, x: number, hn: number): void {
    const { m, d, D, IP } = this;
    this.dense(this.A, w.oT, d, D, w.oBias, this.Y);
    const ln = w.ln;
    if (ln) {
      for (let j = 0; j < d; j++) m[x + j] = m[hn + j]! * ln.g1[j]! + ln.b1[j]! + m[this.Y + j]!;
      this.normalise(x, x);
      for (let j = 0; j < d; j++) m[x + j] = m[x + j]! * ln.g2[j]! + ln.b2[j]!;
      this.dense(x, w.f1T, this.inner, D, w.f1Bias, this.F, true);
    } else {
      for (let j = 0; j < d; j++) m[x + j] = m[x + j]! + m[this.Y + j]!;
      this.normalise(x, this.Y);
      this.dense(this.Y, w.f1T, this.inner, D, w.f1Bias, this.F, true);
    }
    for (let j = this.inner; j < IP; j++) m[this.F + j] = 0;
    this.dense(this.F, w.f2T, d, IP, w.f2Bias, this.Y);
    for (let j = 0; j < d; j++) m[x + j] = m[x + j]! + m[this.Y + j]!;
  }

  private fullBlock(w: Block, n: number): void {
    this.keysValues(w, n, true);
    for (let t = 0; t < n; t++) {
      this.attend(this.QKV + t * 3 * this.d, t + 1); // causal: positions 0..t
      this.residuals(w, this.X + t * this.D, this.H + t * this.D);
    }
  }

  private lastBlock(w: Block, n: number): void {
    const { m, d, D } = this;
    this.keysValues(w, n, false);
    const lastH = this.H + (n - 1) * D;
    const q = this.QKV + (n - 1) * 3 * d;
    this.dense(lastH, w.qkvT, d, D, w.qkvBias, q); // the query rows (0..d) only
    this.attend(q, n);
    // The last state goes to Y's neighbour so residuals can use Y as scratch: copy into X's last row.
    const x = this.X + (n - 1) * D;
    this.residuals(w, x, lastH);
    for (let j = 0; j < d; j++) m[this.Y + j] = m[x + j]!;
  }
}
