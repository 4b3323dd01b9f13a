/**
 * SASRec's inference forward pass, written against the trained layers' weights instead of running
 * the LayersModel: the user vector is the final state at the last position only, so
 * - the last block computes its query, attention, feed-forward and layer norms for one position
 *   (keys and values still for all), the earlier blocks for all positions;
 * - states stay 2-D [B·L, d] between blocks (no reshape around every dense layer);
 * - Q, K and V come from one fused [d, 3d] matMul, the 1/√dk scale is folded into the query
 *   weights, the layer norms' γ and β into the dense layer that follows them, and the causal +
 *   padding bias is built once per call, not once per block;
 * - means over the width are one matMul with a [d, 1] column of 1/d (tf.mean is Cast + Mean);
 * - no tfjs-layers graph walk, no per-layer tidy or shape checks.
 * Serving is dominated by per-op dispatch (TFJS-NOTES; measured ~200 kernels per SASRec top-k
 * through the LayersModel): this runs about half as many. Training still goes through the
 * LayersModel (gradients, dropout); equality with it is tested in `model.spec.ts`.
 *
 * The derived tensors (fused kernels, scaled queries, cached biases) are copies: call
 * {@link SasrecInference.dispose} after the weights change (the encoder's `invalidate` does).
 */
import type { LayersModel, Tensor, Tensor1D, Tensor2D, Tensor3D } from '@tensorflow/tfjs';
import type { EncoderConfig } from './config';
import { tf } from './tf';
import { startPositions } from './layers/item-embedding';

type SasrecConfig = Extract<EncoderConfig, { kind: 'sasrec' }>;

/**
 * Each kernel that reads a layer norm's output has its γ folded in (rows scaled) and its bias
 * β·W + b. In the `sasrec` layout the residual stream restarts from the normalised states, so
 * those are computed in full (`ln1`, `ln2`), keys and values read the un-normalised states and
 * the feed-forward kernels are kept unfolded.
 */
interface BlockWeights {
  /** [d, 3d]: query (pre-scaled by 1/√dk), key, value kernels side by side (`pre-ln` only). */
  qkv: Tensor2D | null;
  qkvBias: Tensor1D | null;
  /** The query slice alone (pre-scaled), for the last block's single position. */
  q: Tensor2D;
  qBias: Tensor1D;
  /** [d, 2d] key and value kernels, for the last block. */
  kv: Tensor2D;
  kvBias: Tensor1D;
  o: [Tensor2D, Tensor1D];
  ffn: [Tensor2D, Tensor1D, Tensor2D, Tensor1D];
  /** `sasrec` layout: the attention and feed-forward layer norms' γ and β. */
  ln1: [Tensor1D, Tensor1D] | null;
  ln2: [Tensor1D, Tensor1D] | null;
}

const MASKED = -1e9;

export class SasrecInference {
  private readonly items: Tensor2D;
  private readonly positions: Tensor2D;
  private readonly types: Tensor2D | null;
  private readonly blocks: BlockWeights[];
  private readonly finalLn: [Tensor1D, Tensor1D];
  /** [d, 1] column of 1/d: `x @ invD` is the mean over the last axis. */
  private readonly invD: Tensor2D;
  /** Owned derived tensors (disposed by `dispose`). */
  private readonly owned: Tensor[] = [];
  /** Per window length L: positions [L, d] and the causal bias [L, L] (0 allowed, MASKED not). */
  private readonly perLength = new Map<number, { pos: Tensor2D; causal: Tensor2D }>();
  private readonly d: number;
  private readonly heads: number;
  private readonly eps: number;

  constructor(
    private readonly cfg: SasrecConfig,
    model: LayersModel,
  ) {
    this.d = cfg.dim;
    this.heads = cfg.heads;
    this.eps = cfg.layerNormEps;
    const original = cfg.layout === 'sasrec';
    const w = (name: string) => model.getLayer(name).getWeights();
    const emb = w('item_embedding');
    this.items = emb[0] as Tensor2D;
    this.positions = emb[1] as Tensor2D;
    this.types = cfg.numTypes > 0 ? (emb[2] as Tensor2D) : null;
    const scale = 1 / Math.sqrt(cfg.dim / cfg.heads);
    const d = cfg.dim;
    // Kept: the pass may be built inside a caller's tidy, which must not free the cache.
    const own = <T extends Tensor>(t: T): T => {
      this.owned.push(tf.keep(t));
      return t;
    };
    this.invD = own(tf.fill([d, 1], 1 / d) as Tensor2D);
    /** (x̂·γ + β)·W + b = x̂·(γ ⊙rows W) + (β·W + b), computed without keeping intermediates. */
    const fold = ([gamma, beta]: Tensor[], kernel: Tensor, bias: Tensor): [Tensor2D, Tensor1D] =>
      tf.tidy(() => [
        own(tf.mul(tf.reshape(gamma!, [d, 1]), kernel) as Tensor2D),
        own(tf.add(tf.reshape(tf.matMul(tf.reshape(beta!, [1, d]), kernel as Tensor2D), [-1]), bias) as Tensor1D),
      ]);
    this.blocks = [];
    for (let b = 0; b < cfg.blocks; b++) {
      const [qk, qb, kk, kb, vk, vb, ok, ob] = w(`block${b}_attention`) as [Tensor2D, Tensor1D, Tensor2D, Tensor1D, Tensor2D, Tensor1D, Tensor2D, Tensor1D];
      const ln1 = w(`block${b}_ln_attention`);
      const [k1, b1, k2, b2] = w(`block${b}_ffn`) as [Tensor2D, Tensor1D, Tensor2D, Tensor1D];
      const [q, qBias] = tf.tidy(() => fold(ln1, tf.mul(qk, scale), tf.mul(qb, scale)));
      if (original) {
        const kv = own(tf.concat([kk, vk], 1) as Tensor2D);
        const kvBias = own(tf.concat([kb, vb]) as Tensor1D);
        const ln2 = w(`block${b}_ln_ffn`) as [Tensor1D, Tensor1D];
        this.blocks.push({ qkv: null, qkvBias: null, q, qBias, kv, kvBias, o: [ok, ob], ffn: [k1, b1, k2, b2], ln1: ln1 as [Tensor1D, Tensor1D], ln2 });
        continue;
      }
      const [qkv, qkvBias] = tf.tidy(() => fold(ln1, tf.concat([tf.mul(qk, scale), kk, vk], 1), tf.concat([tf.mul(qb, scale), kb, vb])));
      const [kv, kvBias] = tf.tidy(() => fold(ln1, tf.concat([kk, vk], 1), tf.concat([kb, vb])));
      const [f1, fb1] = fold(w(`block${b}_ln_ffn`), k1, b1);
      this.blocks.push({ qkv, qkvBias, q, qBias, kv, kvBias, o: [ok, ob], ffn: [f1, fb1, k2, b2], ln1: null, ln2: null });
    }
    this.finalLn = w('final_ln') as [Tensor1D, Tensor1D];
  }

  private forLength(l: number): { pos: Tensor2D; causal: Tensor2D } {
    let c = this.perLength.get(l);
    if (!c) {
      c = tf.tidy(() => ({
        pos: tf.slice(this.positions, [this.cfg.maxLen - l, 0], [l, this.d]) as Tensor2D,
        causal: tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([l, l]), -1, 0)), MASKED) as Tensor2D,
      }));
      tf.keep(c.pos);
      tf.keep(c.causal);
      this.perLength.set(l, c);
    }
    return c;
  }

  /** (x − mean) / √(var + eps) over the last axis of x [M, d], without γ and β (folded into the next kernel). */
  private normalise(x: Tensor2D): Tensor2D {
    const xc = tf.sub(x, tf.matMul(x, this.invD));
    const variance = tf.matMul(tf.square(xc), this.invD);
    return tf.mul(xc, tf.rsqrt(tf.add(variance, this.eps)));
  }

  /** [B·L, w] → heads-major [B·h, L, w/h] (w = d for q/k/v). */
  private splitHeads(t: Tensor, b: number, l: number): Tensor3D {
    const h = this.heads;
    const dk = this.d / h;
    if (h === 1) return tf.reshape(t, [b, l, dk]);
    return tf.reshape(tf.transpose(tf.reshape(t, [b, l, h, dk]), [0, 2, 1, 3]), [b * h, l, dk]);
  }

  /** Attention with a bias added to the scores: bias [B, Lq, L] is shared by the heads. */
  private attend(q: Tensor3D, k: Tensor3D, v: Tensor3D, bias: Tensor, b: number, lq: number, l: number): Tensor2D {
    const h = this.heads;
    let s = tf.matMul(q, k, false, true); // [B·h, Lq, L]
    s = h === 1 ? tf.add(s, bias) : tf.reshape(tf.add(tf.reshape(s, [b, h, lq, l]), tf.expandDims(bias, 1)), [b * h, lq, l]);
    const out = tf.matMul(tf.softmax(s), v); // [B·h, Lq, dk]
    if (h === 1) return tf.reshape(out, [b * lq, this.d]);
    return tf.reshape(tf.transpose(tf.reshape(out, [b, h, lq, this.d / h]), [0, 2, 1, 3]), [b * lq, this.d]);
  }

  private ffn(x: Tensor2D, [k1, b1, k2, b2]: BlockWeights['ffn']): Tensor2D {
    return tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, k1), b1)) as Tensor2D, k2), b2);
  }

  /** User vectors [B, d] for left-padded ids [B, L] (and event types [B, L]). Caller disposes. */
  encode(ids: Tensor2D, types: Tensor2D | null): Tensor2D {
    return tf.tidy(() => {
      const [b, l] = ids.shape;
      const d = this.d;
      const { pos: endPos, causal } = this.forLength(l);
      // `start` positions depend on each row's length; `end` ones only on the window width.
      const pos = this.cfg.positions === 'start' ? tf.gather(this.positions, startPositions(ids)) : endPos;
      const valid = tf.cast(tf.greater(ids, 0), 'float32'); // [B, L]
      const validCol = tf.reshape(valid, [b * l, 1]);
      const padBias = tf.reshape(tf.mul(tf.sub(valid, 1), -MASKED), [b, 1, l]); // 0 valid, MASKED padding
      let x3: Tensor = tf.add(tf.mul(tf.gather(this.items, ids), Math.sqrt(d)), pos);
      if (this.types) {
        if (!types) throw new Error('sasrec: this model needs event types');
        x3 = tf.add(x3, tf.gather(this.types, types));
      }
      let x = tf.mul(tf.reshape(x3, [b * l, d]), validCol) as Tensor2D;
      const last = this.blocks.length - 1;
      const fullBias = last > 0 ? tf.add(causal, padBias) : null; // [B, L, L]
      for (let i = 0; i < last; i++) {
        const w = this.blocks[i]!;
        const hN = this.normalise(x);
        if (w.ln1) {
          // sasrec layout: queries from LN(x), keys and values from x, residuals from the normalised states.
          const q = tf.add(tf.matMul(hN, w.q), w.qBias);
          const [k, v] = tf.split(tf.add(tf.matMul(x, w.kv), w.kvBias), 2, 1);
          const a = this.attend(this.splitHeads(q, b, l), this.splitHeads(k!, b, l), this.splitHeads(v!, b, l), fullBias!, b, l, l);
          x = tf.add(this.affine(hN, w.ln1), tf.add(tf.matMul(a, w.o[0]), w.o[1]));
          const h2 = this.affine(this.normalise(x), w.ln2!);
          x = tf.mul(tf.add(h2, this.ffn(h2, w.ffn)), validCol);
          continue;
        }
        const [q, k, v] = tf.split(tf.add(tf.matMul(hN, w.qkv!), w.qkvBias!), 3, 1);
        const a = this.attend(this.splitHeads(q!, b, l), this.splitHeads(k!, b, l), this.splitHeads(v!, b, l), fullBias!, b, l, l);
        x = tf.add(x, tf.add(tf.matMul(a, w.o[0]), w.o[1]));
        x = tf.mul(tf.add(x, this.ffn(this.normalise(x), w.ffn)), validCol);
      }
      // Last block: keys and values at every position, everything else at the last one.
      const w = this.blocks[last]!;
      const lastRow = (t: Tensor2D) => tf.reshape(tf.slice(tf.reshape(t, [b, l, d]), [0, l - 1, 0], [b, 1, d]), [b, d]) as Tensor2D;
      let y: Tensor2D;
      if (w.ln1) {
        const [k, v] = tf.split(tf.add(tf.matMul(x, w.kv), w.kvBias), 2, 1);
        const hLast = this.normalise(lastRow(x));
        const q = tf.add(tf.matMul(hLast, w.q), w.qBias);
        const a = this.attend(this.splitHeads(q, b, 1), this.splitHeads(k!, b, l), this.splitHeads(v!, b, l), padBias, b, 1, l);
        y = tf.add(this.affine(hLast, w.ln1), tf.add(tf.matMul(a, w.o[0]), w.o[1]));
        const h2 = this.affine(this.normalise(y), w.ln2!);
        y = tf.add(h2, this.ffn(h2, w.ffn));
      } else {
        const hN = this.normalise(x);
        const [k, v] = tf.split(tf.add(tf.matMul(hN, w.kv), w.kvBias), 2, 1);
        const q = tf.add(tf.matMul(lastRow(hN), w.q), w.qBias);
        // The last position may attend to every valid position (causality allows all of them).
        const a = this.attend(this.splitHeads(q, b, 1), this.splitHeads(k!, b, l), this.splitHeads(v!, b, l), padBias, b, 1, l);
        y = tf.add(lastRow(x), tf.add(tf.matMul(a, w.o[0]), w.o[1]));
        y = tf.add(y, this.ffn(this.normalise(y), w.ffn));
      }
      y = tf.mul(y, tf.slice(valid, [0, l - 1], [b, 1]));
      return tf.add(tf.mul(this.normalise(y), this.finalLn[0]), this.finalLn[1]);
    });
  }

  /** x̂·γ + β. */
  private affine(xn: Tensor2D, [gamma, beta]: [Tensor1D, Tensor1D]): Tensor2D {
    return tf.add(tf.mul(xn, gamma), beta);
  }

  dispose(): void {
    tf.dispose(this.owned);
    this.owned.length = 0;
    for (const c of this.perLength.values()) tf.dispose([c.pos, c.causal]);
    this.perLength.clear();
  }
}
