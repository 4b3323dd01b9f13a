/**
 * Many dot products against one query, in WebAssembly SIMD: the approximate index's scan (a few
 * thousand rows per request) was the scorer's largest CPU cost in plain JS (~0.3 ms per query for
 * 3,000 rows × 64, bounds-checked scalar loads). `f32x4` loads and two accumulators per row do the
 * same work several times faster, with no kernel launch.
 *
 * One compiled module; each {@link SimdKernel} instantiates it over its own `WebAssembly.Memory`
 * (rows zero-padded to a multiple of 8 floats), so a retired model's tables are freed by the
 * garbage collector like any other object. Where WebAssembly SIMD is not available the same API
 * runs a scalar JS loop (`simd` says which). {@link DotTable} is one fixed table and a query;
 * the SASRec inference pass (sasrec-simd.ts) uses a kernel as its whole workspace.
 *
 * The kernel, compiled from this text by wabt (wat.ts); the spec tests check it against plain JS
 * dot products.
 */
import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import { compileWat, isSimdAllowed } from './wat';

/** The dot kernel in the WebAssembly text format. */
export const DOT_KERNEL_WAT = `
(module
  (import "env" "mem" (memory 0))
  ;; out[r] = q · rows[r] for r < count; rows are contiguous, chunks × 8 floats each
  (func (export "dots") (param $q i32) (param $rows i32) (param $count i32) (param $chunks i32) (param $out i32)
    (local $qp i32) (local $j i32) (local $a0 v128) (local $a1 v128)
    (block $done
      (br_if $done (i32.eqz (local.get $count)))
      (loop $row
        (local.set $a0 (v128.const f32x4 0 0 0 0))
        (local.set $a1 (v128.const f32x4 0 0 0 0))
        (local.set $qp (local.get $q))
        (local.set $j (local.get $chunks))
        (loop $chunk ;; 8 floats per turn, two accumulators
          (local.set $a0 (f32x4.add (local.get $a0)
            (f32x4.mul (v128.load align=4 (local.get $qp)) (v128.load align=4 (local.get $rows)))))
          (local.set $a1 (f32x4.add (local.get $a1)
            (f32x4.mul (v128.load offset=16 align=4 (local.get $qp)) (v128.load offset=16 align=4 (local.get $rows)))))
          (local.set $qp (i32.add (local.get $qp) (i32.const 32)))
          (local.set $rows (i32.add (local.get $rows) (i32.const 32)))
          (br_if $chunk (local.tee $j (i32.sub (local.get $j) (i32.const 1)))))
        (local.set $a0 (f32x4.add (local.get $a0) (local.get $a1)))
        (f32.store (local.get $out)
          (f32.add (f32.add (f32.add (f32x4.extract_lane 0 (local.get $a0)) (f32x4.extract_lane 1 (local.get $a0)))
            (f32x4.extract_lane 2 (local.get $a0))) (f32x4.extract_lane 3 (local.get $a0))))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br_if $row (local.tee $count (i32.sub (local.get $count) (i32.const 1))))))))
`;

/**
 * A layer's weights copied out of TF, in the layer's order (the inline encoders' input); the one at
 * index `skip` is not copied (an empty array stands in: the caller has it already).
 */
export function layerWeights(model: LayersModel, name: string, skip = -1): Float32Array[] {
  return model.getLayer(name).getWeights().map((t: Tensor, i) => (i === skip ? new Float32Array(0) : (t.dataSync() as Float32Array)));
}

type DotsFn = (q: number, rows: number, count: number, chunks: number, out: number) => void;

let compiled: WebAssembly.Module | null | undefined;

/** The compiled module, or null where WebAssembly SIMD is unavailable (or SEQREC_SIMD=false). */
function simdModule(): WebAssembly.Module | null {
  if (!isSimdAllowed()) return null; // checked before the cache: SEQREC_SIMD may change between tables
  if (compiled === undefined) compiled = compileWat('dots', DOT_KERNEL_WAT);
  return compiled;
}

/** Rounds a length up to the kernel's granule (8 floats). */
export const pad8 = (n: number): number => Math.ceil(n / 8) * 8;

/**
 * A float workspace of fixed size with the dot kernel over it: `dots(q, rows, count, len, out)`
 * writes `out[r] = Σ_{j<len} f32[q + j] · f32[rows + r·len + j]` for r < count, all offsets in
 * floats, `len` a multiple of 8 (rows are contiguous, zero-padded to it). WebAssembly SIMD over
 * its own memory, or the same in scalar JS where SIMD is unavailable or `scalar` is asked.
 */
export class SimdKernel {
  /** The workspace; valid for the kernel's lifetime (the memory never grows). */
  readonly f32: Float32Array;
  readonly simd: boolean;
  private readonly fn: DotsFn | null;

  constructor(readonly floats: number, scalar = false) {
    const module = scalar ? null : simdModule();
    if (module) {
      const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil((floats * 4) / 65536)) });
      this.fn = new WebAssembly.Instance(module, { env: { mem: memory } }).exports['dots'] as DotsFn;
      this.f32 = new Float32Array(memory.buffer, 0, floats);
    } else {
      this.fn = null;
      this.f32 = new Float32Array(floats);
    }
    this.simd = this.fn !== null;
  }

  /**
   * Writes the transpose of a row-major [dIn, dOut] kernel at `at`: one row of `stride` floats per
   * output unit (so `dots` computes x·W), each value times `scale(i, o)` when given (a folded layer
   * norm or attention scale). Returns the offset after the rows.
   */
  putRows(at: number, kernel: Float32Array, dIn: number, dOut: number, stride: number, scale?: (i: number, o: number) => number): number {
    const m = this.f32;
    for (let o = 0; o < dOut; o++) {
      for (let i = 0; i < dIn; i++) m[at + o * stride + i] = kernel[i * dOut + o]! * (scale ? scale(i, o) : 1);
    }
    return at + dOut * stride;
  }

  dots(q: number, rows: number, count: number, len: number, out: number): void {
    if (this.fn) {
      this.fn(q * 4, rows * 4, count, len >> 3, out * 4);
      return;
    }
    const m = this.f32;
    for (let r = 0; r < count; r++) {
      const o = rows + r * len;
      let s0 = 0;
      let s1 = 0;
      for (let j = 0; j < len; j += 2) {
        s0 += m[q + j]! * m[o + j]!;
        s1 += m[q + j + 1]! * m[o + j + 1]!;
      }
      m[out + r] = s0 + s1;
    }
  }
}

/**
 * A fixed table of `count` rows of dimension `dim` and a query slot: `scores(from, to)` returns
 * row · query for rows [from, to). Set the query with {@link setQuery} first.
 */
export class DotTable {
  /** Row stride in floats: dim rounded up to a multiple of 8 (zero padding). */
  readonly stride: number;
  /** True when the WebAssembly SIMD kernel runs; false: the scalar JS fallback. */
  readonly simd: boolean;
  private readonly kernel: SimdKernel;
  private readonly table: Float32Array;
  private readonly query: Float32Array;
  private readonly out: Float32Array;
  private readonly qAt: number;
  private readonly outAt: number;

  /**
   * @param rows `count × dim` floats, row-major
   * @param maxRun the most rows one `scores` call may ask for (the output buffer's size)
   */
  constructor(rows: Float32Array, readonly count: number, readonly dim: number, maxRun = count, forceScalar = false) {
    if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`DotTable: dim must be a positive integer, got ${dim}`);
    if (rows.length !== count * dim) throw new RangeError(`DotTable: ${rows.length} values for ${count} × ${dim}`);
    const stride = pad8(dim);
    this.stride = stride;
    const run = Math.max(1, Math.min(maxRun, count));
    this.kernel = new SimdKernel(count * stride + stride + run, forceScalar);
    this.simd = this.kernel.simd;
    const f32 = this.kernel.f32;
    this.qAt = count * stride;
    this.outAt = this.qAt + stride;
    this.table = f32.subarray(0, count * stride);
    this.query = f32.subarray(this.qAt, this.qAt + stride);
    this.out = f32.subarray(this.outAt, this.outAt + run);
    if (stride === dim) this.table.set(rows);
    else for (let i = 0; i < count; i++) this.table.set(rows.subarray(i * dim, (i + 1) * dim), i * stride);
  }

  /** Row i (a view of `dim` floats; do not write). */
  row(i: number): Float32Array {
    return this.table.subarray(i * this.stride, i * this.stride + this.dim);
  }

  /** All rows as one [count, stride] block (zero-padded columns beyond `dim`). */
  get padded(): Float32Array {
    return this.table;
  }

  setQuery(q: ArrayLike<number>): void {
    if (q.length !== this.dim) throw new RangeError(`DotTable: query has ${q.length} dimensions, the table ${this.dim}`);
    this.query.set(q);
  }

  /**
   * row · query for rows [from, to), as a view of the output buffer valid until the next call
   * (at most `maxRun` rows).
   */
  scores(from: number, to: number): Float32Array {
    const n = to - from;
    if (n < 0 || from < 0 || to > this.count || n > this.out.length) throw new RangeError(`DotTable: rows [${from}, ${to}) of ${this.count}, at most ${this.out.length} at a time`);
    this.kernel.dots(this.qAt, from * this.stride, n, this.stride, this.outAt);
    return this.out.subarray(0, n);
  }
}
