/**
 * Exact top-k over a whole item table for one query vector, without a TF kernel launch and without
 * reading 12.8 MB of floats per request: an int8 copy of the table is scanned in WebAssembly SIMD,
 * every item's true score is bounded from it, and only the items whose upper bound reaches the k-th
 * best lower bound are scored again in full precision. The answer is the same set and order as
 * scoring every item (ties broken by the smaller index), not an approximation: an item left out has
 * an upper bound below k other items' lower bounds, so below k true scores.
 *
 * The bound. Row i is stored as q_i · s_i (q_i int8, s_i = max|E_i| / 127) with residual r_i; the
 * query u as p · t (p int16, t = max|u| / 16383) with residual w. Then
 *   E_i·u − s_i t (q_i·p) = E_i·w + r_i·u − r_i·w,   |…| ≤ ‖E_i‖‖w‖ + ‖r_i‖(‖u‖ + ‖w‖)
 * (Cauchy–Schwarz), plus a margin of 1e-12 · ‖E_i‖‖u‖ for double rounding. With 64 dimensions the
 * bound is ~1% of ‖E_i‖‖u‖, so a 50,000-item scan rescores a few dozen items for k = 20.
 *
 * The integer dot products are exact: |q| ≤ 127 and |p| ≤ 16383, so a whole row's sum stays below
 * 2^31 for up to 1,024 dimensions. The kernel also writes each row's upper bound in single
 * precision, with its own margin of 1e-6 · ‖E_i‖‖u‖ for float rounding, so the pass over the rows
 * in JS reads one float per row and looks at the double-precision bounds only for rows that pass
 * it. The kernels are compiled from the text below by wabt (wat.ts); the spec tests check them
 * against a brute-force scan.
 */
import { TopK, type Ranked } from './topk';
import { compileWat, isSimdAllowed } from './wat';

/**
 * The bounding scan, one row at a time: the int8 row · the int16 query (exact), the row's f32
 * upper bound into `highs`, and the index of every row whose bound reaches `tau` into `out` (its
 * end into `endAt`). Per-row arrays advance one element per row; all addresses are bytes.
 */
export const INT8_KERNEL_WAT = `
(module
  (import "env" "mem" (memory 0))
  (func (export "bounds8") (param $q i32) (param $rows i32) (param $count i32) (param $chunks i32)
      (param $dots i32) (param $highs i32) (param $scales i32) (param $norms i32) (param $resids i32)
      (param $out i32) (param $idx i32) (param $endAt i32)
      (param $t f32) (param $nb f32) (param $rb f32) (param $tau f32)
    (local $qp i32) (local $j i32) (local $a0 v128) (local $a1 v128) (local $v v128) (local $sum i32) (local $h f32)
    (block $done
      (br_if $done (i32.eqz (local.get $count)))
      (loop $row
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $qp (local.get $q))
        (local.set $j (local.get $chunks))
        (loop $chunk ;; 16 int8 weights per turn
          (local.set $v (v128.load align=4 (local.get $rows)))
          (local.set $a0 (i32x4.add (local.get $a0)
            (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (v128.load align=4 (local.get $qp)))))
          (local.set $a1 (i32x4.add (local.get $a1)
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (v128.load offset=16 align=4 (local.get $qp)))))
          (local.set $qp (i32.add (local.get $qp) (i32.const 32)))
          (local.set $rows (i32.add (local.get $rows) (i32.const 16)))
          (br_if $chunk (local.tee $j (i32.sub (local.get $j) (i32.const 1)))))
        (local.set $a0 (i32x4.add (local.get $a0) (local.get $a1)))
        (local.set $sum (i32.add (i32.add (i32.add (i32x4.extract_lane 0 (local.get $a0)) (i32x4.extract_lane 1 (local.get $a0)))
          (i32x4.extract_lane 2 (local.get $a0))) (i32x4.extract_lane 3 (local.get $a0))))
        (i32.store (local.get $dots) (local.get $sum))
        ;; upper bound: sum · scale · t + norm · nb + resid · rb
        (f32.store (local.get $highs) (local.tee $h
          (f32.add (f32.add
            (f32.mul (f32.mul (f32.convert_i32_s (local.get $sum)) (f32.load (local.get $scales))) (local.get $t))
            (f32.mul (f32.load (local.get $norms)) (local.get $nb)))
            (f32.mul (f32.load (local.get $resids)) (local.get $rb)))))
        (if (f32.ge (local.get $h) (local.get $tau))
          (then
            (i32.store (local.get $out) (local.get $idx))
            (local.set $out (i32.add (local.get $out) (i32.const 4)))))
        (local.set $idx (i32.add (local.get $idx) (i32.const 1)))
        (local.set $dots (i32.add (local.get $dots) (i32.const 4)))
        (local.set $highs (i32.add (local.get $highs) (i32.const 4)))
        (local.set $scales (i32.add (local.get $scales) (i32.const 4)))
        (local.set $norms (i32.add (local.get $norms) (i32.const 4)))
        (local.set $resids (i32.add (local.get $resids) (i32.const 4)))
        (br_if $row (local.tee $count (i32.sub (local.get $count) (i32.const 1))))))
    (i32.store (local.get $endAt) (local.get $out))))
`;

/** Most 16-dimension chunks the unrolled kernel takes (dim ≤ 128): two query registers each. */
const UNROLLED_MAX_CHUNKS = 8;

/**
 * The same scan unrolled for one table: `chunks` 16-byte chunks per row with the query held in
 * 2 × chunks v128 locals (no chunk loop, no query loads), and the per-row arrays addressed by one
 * row offset `p` (= row × 4) plus each array's fixed address in the table's memory as the
 * instruction's memory offset, so a row advances two pointers instead of six. Listed rows are
 * written as row indices (p >> 2). The text is written for each table (its chunk count and
 * addresses); everything else is as in {@link INT8_KERNEL_WAT}.
 */
export function int8UnrolledKernelWat(chunks: number, at: { dots: number; highs: number; scales: number; norms: number; resids: number }): string {
  if (!Number.isInteger(chunks) || chunks < 1 || chunks > UNROLLED_MAX_CHUNKS) throw new RangeError(`unrolled kernel: 1..${UNROLLED_MAX_CHUNKS} chunks, got ${chunks}`);
  const regs = Array.from({ length: 2 * chunks }, (_, i) => `(local $q${i} v128)`).join(' ');
  const loadQuery = Array.from({ length: 2 * chunks }, (_, i) => `    (local.set $q${i} (v128.load offset=${16 * i} align=4 (local.get $q)))`).join('\n');
  const perChunk = Array.from(
    { length: chunks },
    (_, c) => `        (local.set $v (v128.load offset=${16 * c} align=4 (local.get $rows)))
        (local.set $a0 (i32x4.add (local.get $a0) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (local.get $q${2 * c}))))
        (local.set $a1 (i32x4.add (local.get $a1) (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (local.get $q${2 * c + 1}))))`,
  ).join('\n');
  return `
(module
  (import "env" "mem" (memory 0))
  (func (export "bounds8u") (param $q i32) (param $rows i32) (param $count i32) (param $p i32) (param $out i32) (param $endAt i32)
      (param $t f32) (param $nb f32) (param $rb f32) (param $tau f32)
    (local $sum i32) (local $h f32) (local $a0 v128) (local $a1 v128) (local $v v128) ${regs}
${loadQuery}
    (block $done
      (br_if $done (i32.eqz (local.get $count)))
      (loop $row
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
${perChunk}
        (local.set $a0 (i32x4.add (local.get $a0) (local.get $a1)))
        (local.set $sum (i32.add (i32.add (i32.add (i32x4.extract_lane 0 (local.get $a0)) (i32x4.extract_lane 1 (local.get $a0)))
          (i32x4.extract_lane 2 (local.get $a0))) (i32x4.extract_lane 3 (local.get $a0))))
        (i32.store offset=${at.dots} (local.get $p) (local.get $sum))
        (f32.store offset=${at.highs} (local.get $p) (local.tee $h
          (f32.add (f32.add
            (f32.mul (f32.mul (f32.convert_i32_s (local.get $sum)) (f32.load offset=${at.scales} (local.get $p))) (local.get $t))
            (f32.mul (f32.load offset=${at.norms} (local.get $p)) (local.get $nb)))
            (f32.mul (f32.load offset=${at.resids} (local.get $p)) (local.get $rb)))))
        (if (f32.ge (local.get $h) (local.get $tau))
          (then
            (i32.store (local.get $out) (i32.shr_u (local.get $p) (i32.const 2)))
            (local.set $out (i32.add (local.get $out) (i32.const 4)))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $rows (i32.add (local.get $rows) (i32.const ${16 * chunks})))
        (br_if $row (local.tee $count (i32.sub (local.get $count) (i32.const 1))))))
    (i32.store (local.get $endAt) (local.get $out))))
`;
}

type Bounds8UFn = (q: number, rows: number, count: number, p: number, out: number, endAt: number, t: number, nb: number, rb: number, tau: number) => void;


type Bounds8Fn = (
  q: number, rows: number, count: number, chunks: number, dots: number, highs: number, scales: number, norms: number, resids: number,
  out: number, idx: number, endAt: number, t: number, nb: number, rb: number, tau: number,
) => void;

let compiled: WebAssembly.Module | null | undefined;
function int8Module(): WebAssembly.Module | null {
  if (!isSimdAllowed()) return null; // checked before the cache: SEQREC_SIMD may change between tables
  if (compiled === undefined) compiled = compileWat('bounds8', INT8_KERNEL_WAT);
  return compiled;
}

/** Largest |query| lane after quantisation. */
const QUERY_MAX = 16383;
/** Most dimensions: 1,024 × 127 × 16383 < 2^31, so no i32 sum overflows. */
const MAX_DIM = 1024;
/** Rows per call of the bounding pass. */
const PASS_CHUNK = 4096;
/**
 * Rows scanned first (at least this many, and 16 per result) to set the kernel's listing
 * threshold for the rest; tables under twice this size are passed over whole.
 */
const SAMPLE_ROWS = 1024;
/** Margin (times ‖E_i‖‖u‖) on the kernel's single-precision upper bounds: f32 rounding of the scale product and the bound terms stays below 5e-7 of it. */
const F32_ROUNDING = 1e-6;
/** Relative slack on the bound for double rounding in the scale products, residual norms and the full-precision scores. */
const ROUNDING = 1e-12;

/** Row indices best first, with their scores (row · query) computed in double precision from the float rows. */
export type ExactTopKResult = Ranked;

/**
 * A float item table of `count` rows × `dim` answering exact top-k queries (see the file comment).
 * Rows before `first` are never returned (the padding row 0 of the model tables). Holds an int8
 * copy (count × dim rounded up to 16 bytes) plus three doubles per row, and reads the float rows it
 * was given (not copied) for the final rescoring.
 */
export class ExactTopK {
  /** Which scan runs: the kernel unrolled for this table (≤ 128 dimensions), the chunk-loop kernel, or scalar JS. */
  readonly kernel: 'unrolled' | 'loop' | 'scalar';
  /** Items rescored in full precision by the last query (for metrics and tests). */
  lastRescored = 0;
  /** Rows the last query's pass in JS looked at (the rest were ruled out inside the kernel). */
  lastPassed = 0;
  private readonly stride: number;
  private readonly fn: Bounds8Fn | null;
  private readonly fnUnrolled: Bounds8UFn | null;
  private readonly rows8: Int8Array;
  private readonly query16: Int16Array;
  /** Kernel output per row: the integer dot product and the f32 upper bound. */
  private readonly dots: Int32Array;
  private readonly highs: Float32Array;
  /** Kernel input per row: scale, norm and residual norm in f32. */
  private readonly scale32: Float32Array;
  private readonly norm32: Float32Array;
  private readonly resid32: Float32Array;
  private readonly rowsAt = 0;
  private readonly queryAt: number;
  private readonly dotsAt: number;
  private readonly highsAt: number;
  private readonly scalesAt: number;
  private readonly normsAt: number;
  private readonly residsAt: number;
  /** The kernel's list of rows whose upper bound reached its threshold, and where that list ends. */
  private readonly listAt: number;
  private readonly endAt: number;
  private readonly list: Int32Array;
  private readonly listEnd: Int32Array;
  private readonly memoryBytes: number;
  /** Per row: int8 scale s_i, residual norm ‖r_i‖, norm ‖E_i‖. */
  private readonly scale: Float64Array;
  private readonly resid: Float64Array;
  private readonly norm: Float64Array;
  private readonly excluded: Uint8Array;
  private readonly candidates: Int32Array;
  private readonly candidateHigh: Float64Array;
  private readonly queryF64: Float64Array;
  private heap = new Float64Array(64);
  /** The running query's filter (rows it refuses are skipped like excluded ones). */
  private accept: ((row: number) => boolean) | null = null;
  private readonly passState = new Float64Array(3);

  constructor(
    private readonly rows: Float32Array,
    readonly count: number,
    readonly dim: number,
    readonly first = 0,
    forceScalar = false,
  ) {
    if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`ExactTopK: dim must be a positive integer, got ${dim}`);
    if (dim > MAX_DIM) throw new RangeError(`ExactTopK: at most ${MAX_DIM} dimensions, got ${dim}`);
    if (rows.length !== count * dim) throw new RangeError(`ExactTopK: ${rows.length} values for ${count} × ${dim}`);
    if (!Number.isInteger(first) || first < 0 || first > count) throw new RangeError(`ExactTopK: first row ${first} outside 0..${count}`);
    const stride = Math.ceil(dim / 16) * 16;
    this.stride = stride;
    this.queryAt = count * stride;
    this.dotsAt = this.queryAt + stride * 2;
    this.highsAt = this.dotsAt + count * 4;
    this.scalesAt = this.highsAt + count * 4;
    this.normsAt = this.scalesAt + count * 4;
    this.residsAt = this.normsAt + count * 4;
    this.listAt = this.residsAt + count * 4;
    this.endAt = this.listAt + count * 4;
    const bytes = (this.memoryBytes = this.endAt + 4);
    const module = forceScalar ? null : int8Module();
    let buffer: ArrayBuffer;
    if (module) {
      const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / 65536)) });
      this.fn = new WebAssembly.Instance(module, { env: { mem: memory } }).exports['bounds8'] as Bounds8Fn;
      // Up to 128 dimensions: the kernel unrolled for this table (its array addresses built in).
      const chunks = stride >> 4;
      const unrolled =
        chunks <= UNROLLED_MAX_CHUNKS
          ? compileWat('bounds8u', int8UnrolledKernelWat(chunks, { dots: this.dotsAt, highs: this.highsAt, scales: this.scalesAt, norms: this.normsAt, resids: this.residsAt }))
          : null;
      this.fnUnrolled = unrolled ? (new WebAssembly.Instance(unrolled, { env: { mem: memory } }).exports['bounds8u'] as Bounds8UFn) : null;
      buffer = memory.buffer;
    } else {
      this.fn = null;
      this.fnUnrolled = null;
      buffer = new ArrayBuffer(bytes);
    }
    this.kernel = this.fnUnrolled ? 'unrolled' : this.fn ? 'loop' : 'scalar';
    this.rows8 = new Int8Array(buffer, this.rowsAt, count * stride);
    this.query16 = new Int16Array(buffer, this.queryAt, stride);
    this.dots = new Int32Array(buffer, this.dotsAt, count);
    this.highs = new Float32Array(buffer, this.highsAt, count);
    this.scale32 = new Float32Array(buffer, this.scalesAt, count);
    this.norm32 = new Float32Array(buffer, this.normsAt, count);
    this.resid32 = new Float32Array(buffer, this.residsAt, count);
    this.list = new Int32Array(buffer, this.listAt, count);
    this.listEnd = new Int32Array(buffer, this.endAt, 1);
    this.scale = new Float64Array(count);
    this.resid = new Float64Array(count);
    this.norm = new Float64Array(count);
    this.excluded = new Uint8Array(count);
    this.candidates = new Int32Array(count);
    this.candidateHigh = new Float64Array(count);
    this.queryF64 = new Float64Array(dim);
    for (let i = 0; i < count; i++) {
      let max = 0;
      let nn = 0;
      for (let j = 0; j < dim; j++) {
        const v = rows[i * dim + j]!;
        if (!Number.isFinite(v)) throw new RangeError(`ExactTopK: row ${i} has a non-finite value at ${j}`);
        max = Math.max(max, Math.abs(v));
        nn += v * v;
      }
      const s = max / 127;
      let rr = 0;
      for (let j = 0; j < dim; j++) {
        const v = rows[i * dim + j]!;
        const q = s === 0 ? 0 : Math.max(-127, Math.min(127, Math.round(v / s)));
        this.rows8[i * stride + j] = q;
        const r = v - s * q;
        rr += r * r;
      }
      this.scale[i] = s;
      this.resid[i] = Math.sqrt(rr);
      this.norm[i] = Math.sqrt(nn);
    }
    this.scale32.set(this.scale);
    this.norm32.set(this.norm);
    this.resid32.set(this.resid);
  }

  /** True when a WebAssembly SIMD kernel runs; false: the scalar JS fallback. */
  get simd(): boolean {
    return this.kernel !== 'scalar';
  }

  /** Bytes held besides the float rows (the int8 table, the kernel's buffers and the per-row figures). */
  get bytes(): number {
    return this.memoryBytes + this.count * (8 * 3 + 1 + 4 + 8);
  }

  /**
   * The `k` rows with the largest row · query (rows before `first`, in `exclude` or refused by
   * `accept` skipped), best first, ties by the smaller index. Fewer when fewer rows are eligible.
   * `accept` is asked only for rows whose upper bound reaches the running threshold (a few dozen
   * of 50,000 when most rows pass), inside the pass: a refused row never raises the threshold.
   */
  topK(query: ArrayLike<number>, k: number, exclude?: ArrayLike<number>, accept?: (row: number) => boolean): ExactTopKResult {
    const { dim } = this;
    if (query.length !== dim) throw new RangeError(`ExactTopK: query has ${query.length} dimensions, the table ${dim}`);
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`ExactTopK: k must be a non-negative integer, got ${k}`);
    let max = 0;
    let uu = 0;
    for (let j = 0; j < dim; j++) {
      const v = query[j]!;
      if (!Number.isFinite(v)) throw new RangeError(`ExactTopK: query has a non-finite value at ${j}`);
      max = Math.max(max, Math.abs(v));
      uu += v * v;
    }
    const t = max / QUERY_MAX;
    let ww = 0;
    const q16 = this.query16;
    for (let j = 0; j < dim; j++) {
      const v = query[j]!;
      const p = t === 0 ? 0 : Math.round(v / t);
      q16[j] = p;
      const w = v - t * p;
      ww += w * w;
    }
    const unorm = Math.sqrt(uu);
    const wnorm = Math.sqrt(ww);
    // |true − approximate| ≤ norm_i · nb + resid_i · rb
    const nb = wnorm + ROUNDING * unorm;
    const rb = unorm + wnorm;
    const nb32 = nb + F32_ROUNDING * unorm;

    this.markExcluded(exclude, 1);
    try {
      this.accept = accept ?? null;
      const { threshold, candidates } = this.bound(k, t, nb, nb32, rb);
      // The true k-th score is at least the final threshold: a row below it cannot be in the top k.
      const best = new TopK(Math.min(k, candidates));
      const rows = this.rows;
      const cand = this.candidates;
      const candHigh = this.candidateHigh;
      const u = this.queryF64;
      for (let j = 0; j < dim; j++) u[j] = query[j]!;
      for (let c = 0; c < candidates; c++) {
        if (candHigh[c]! < threshold) continue;
        const i = cand[c]!;
        let s = 0;
        const o = i * dim;
        for (let j = 0; j < dim; j++) s += rows[o + j]! * u[j]!;
        best.offer(i, s);
      }
      this.lastRescored = best.offered;
      return best.result();
    } finally {
      this.accept = null;
      this.markExcluded(exclude, 0);
    }
  }

  /** Row i of the float table it was given (a view; do not write). */
  row(i: number): Float32Array {
    return this.rows.subarray(i * this.dim, (i + 1) * this.dim);
  }

  /** Sets (1) or clears (0) the exclusion flag of every row in `exclude` inside the table. */
  private markExcluded(exclude: ArrayLike<number> | undefined, flag: 0 | 1): void {
    if (!exclude) return;
    for (let e = 0; e < exclude.length; e++) {
      const i = exclude[e]!;
      if (i >= 0 && i < this.count) this.excluded[i] = flag;
    }
  }

  /**
   * One pass over every eligible row: a min-heap of the k best lower bounds (its top is the
   * threshold, which only rises), and every row whose upper bound reaches the threshold at its turn
   * (into `candidates` / `candidateHigh`). Returns the final threshold and the candidates' count.
   * The pass runs in chunks: a loop of 50,000 turns in one call was compiled on-stack, leaving the
   * code after it without type feedback, and deoptimised on every call (seen with --trace-deopt).
   * Most of the pass's cost went once the kernel wrote each row's f32 upper bound, so that a row
   * costs one float read here.
   */
  private bound(k: number, t: number, nb: number, nb32: number, rb: number): { threshold: number; candidates: number } {
    if (this.heap.length < k) this.heap = new Float64Array(k);
    const st = this.passState;
    st[0] = k === 0 ? Infinity : -Infinity;
    st[1] = 0;
    st[2] = 0;
    const { first, count } = this;
    const sample = Math.max(SAMPLE_ROWS, 16 * k);
    if (!this.fn || count - first < 2 * sample) {
      // Small tables (and the scalar fallback): scan everything, then one pass over every row.
      this.scan(first, count - first, t, nb32, rb, Infinity);
      for (let from = first; from < count; from += PASS_CHUNK) this.boundChunk(from, Math.min(count, from + PASS_CHUNK), k, t, nb, rb, st);
      this.lastPassed = count - first;
      return { threshold: st[0]!, candidates: st[2]! };
    }
    // The first `sample` rows set a threshold: the k-th best lower bound among them is at most the
    // true k-th score. The kernel then lists only the other rows whose (f32) upper bound reaches it;
    // every row it leaves out is below k true scores. tau is rounded down to f32 so that no row
    // whose upper bound equals the threshold is lost.
    this.scan(first, sample, t, nb32, rb, Infinity);
    this.boundChunk(first, first + sample, k, t, nb, rb, st);
    const tau = st[0]!;
    const tau32 = Number.isFinite(tau) ? Math.fround(tau - (Math.abs(tau) * 1e-6 + 1e-30)) : tau;
    const listed = this.scan(first + sample, count - first - sample, t, nb32, rb, tau32);
    for (let from = 0; from < listed; from += PASS_CHUNK) this.boundChunk(from, Math.min(listed, from + PASS_CHUNK), k, t, nb, rb, st, this.list);
    this.lastPassed = sample + listed;
    return { threshold: st[0]!, candidates: st[2]! };
  }

  /**
   * Rows [from, to) of {@link bound}, or with `list` the rows list[from..to) (the kernel's list);
   * `st` carries [threshold, heap size, candidates] between chunks.
   */
  private boundChunk(from: number, to: number, k: number, t: number, nb: number, rb: number, st: Float64Array, list: Int32Array | null = null): void {
    const heap = this.heap;
    const cand = this.candidates;
    const candHigh = this.candidateHigh;
    const excluded = this.excluded;
    const accept = this.accept;
    const dots = this.dots;
    const highs = this.highs;
    const scale = this.scale;
    const norm = this.norm;
    const resid = this.resid;
    let threshold = st[0]!;
    let size = st[1]!;
    let nc = st[2]!;
    for (let c = from; c < to; c++) {
      const i = list === null ? c : list[c]!;
      // The kernel's f32 upper bound is at least the double one: most rows stop here.
      if (highs[i]! < threshold || excluded[i] === 1) continue;
      const approx = scale[i]! * t * dots[i]!;
      const bound = norm[i]! * nb + resid[i]! * rb;
      const high = approx + bound;
      if (high < threshold) continue; // neither its lower bound nor the row itself can matter
      if (accept !== null && !accept(i)) continue;
      const low = approx - bound;
      if (size < k) {
        heapPush(heap, size++, low);
        if (size === k) threshold = heap[0]!;
      } else if (low > threshold) {
        heapReplaceTop(heap, size, low);
        threshold = heap[0]!;
      }
      if (high >= threshold) {
        cand[nc] = i;
        candHigh[nc++] = high;
      }
    }
    st[0] = threshold;
    st[1] = size;
    st[2] = nc;
  }

  /**
   * Integer dot products of rows [from, from + n) with the quantised query into `dots[from ..]`,
   * and their f32 upper bounds (nb already carries the f32 margin) into `highs[from ..]`;
   * the rows whose upper bound is at least `tau` are listed in `list` (kernel only; returns how many).
   */
  private scan(from: number, n: number, t: number, nb: number, rb: number, tau: number): number {
    if (n === 0) return 0;
    const stride = this.stride;
    if (this.fnUnrolled) {
      this.fnUnrolled(this.queryAt, this.rowsAt + from * stride, n, from * 4, this.listAt, this.endAt, t, nb, rb, tau);
      return (this.listEnd[0]! - this.listAt) >> 2;
    }
    if (this.fn) {
      this.fn(
        this.queryAt, this.rowsAt + from * stride, n, stride >> 4, this.dotsAt + from * 4, this.highsAt + from * 4,
        this.scalesAt + from * 4, this.normsAt + from * 4, this.residsAt + from * 4,
        this.listAt, from, this.endAt, t, nb, rb, tau,
      );
      return (this.listEnd[0]! - this.listAt) >> 2;
    }
    const r8 = this.rows8;
    const q16 = this.query16;
    const dots = this.dots;
    const highs = this.highs;
    const dim = this.dim;
    for (let r = 0; r < n; r++) {
      const i = from + r;
      const o = i * stride;
      let s = 0;
      for (let j = 0; j < dim; j++) s += r8[o + j]! * q16[j]!;
      dots[i] = s;
      highs[i] = s * this.scale[i]! * t + this.norm[i]! * nb + this.resid[i]! * rb;
    }
    return 0;
  }
}

function heapPush(h: Float64Array, size: number, v: number): void {
  let i = size;
  h[i] = v;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (h[p]! <= v) break;
    h[i] = h[p]!;
    i = p;
  }
  h[i] = v;
}

function heapReplaceTop(h: Float64Array, size: number, v: number): void {
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= size) break;
    const r = l + 1;
    const c = r < size && h[r]! < h[l]! ? r : l;
    if (h[c]! >= v) break;
    h[i] = h[c]!;
    i = c;
  }
  h[i] = v;
}
