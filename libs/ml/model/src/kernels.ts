/**
 * Kernels that the pure-JS (`cpu`) and WASM backends lack or implement too slowly for training.
 *
 * `UnsortedSegmentSum` is the gradient of every `gather` (every embedding lookup). WASM has no
 * kernel for it at all, so training fails; the `cpu` backend's version builds one mask per segment
 * (per item!), so one SASRec step over a few thousand items takes minutes. The replacement below is
 * a single scatter-add pass over the rows, O(rows × width).
 *
 * WASM's `Slice` copies the *whole* input out of the heap (`readSync`) before taking the slice, and
 * `Unpack` (unstack) and `SplitV` (split) slice once per output, so unstacking a [B, L, d] tensor
 * over L steps copies it L times: 200–300 ms for 128 slices of [128, 200, 50], where the copy
 * itself is ~1 ms. The replacements read the input through a view of the heap. The `cpu` backend's
 * slice of a non-contiguous region goes element by element (1.2 s to unstack [128, 200, 50] over
 * axis 1); the replacement copies contiguous runs.
 */
import type { KernelFunc, Tensor, TensorInfo } from '@tensorflow/tfjs';
import { tf } from './tf';

/** What this module needs from a backend: the `cpu` and `wasm` backends both provide it. */
interface HostBackend {
  readSync(dataId: object): unknown;
  disposeData?(dataId: object): void;
  makeTensorInfo?(shape: number[], dtype: string, values?: unknown): TensorInfo;
  makeOutput?(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap?(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

function read(backend: HostBackend, t: TensorInfo): Float32Array | Int32Array {
  return backend.readSync(t.dataId) as Float32Array | Int32Array;
}

/** Scatter-add of rows of `x` into `numSegments` rows by `segmentIds` (negative ids are dropped). */
export function segmentSumRows(
  x: Float32Array | Int32Array,
  ids: Float32Array | Int32Array,
  numSegments: number,
  out: Float32Array,
): void {
  const rows = ids.length;
  const width = rows === 0 ? 0 : x.length / rows;
  out.fill(0);
  for (let r = 0; r < rows; r++) {
    const s = ids[r];
    if (s < 0 || s >= numSegments) continue;
    const o = s * width;
    const i = r * width;
    for (let c = 0; c < width; c++) out[o + c] += x[i + c];
  }
}

const unsortedSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as unknown as HostBackend;
  const x = inputs['x'] as TensorInfo;
  const segmentIds = inputs['segmentIds'] as TensorInfo;
  const numSegments = (attrs as { numSegments: number }).numSegments;
  const idRank = segmentIds.shape.length;
  if (x.shape.slice(0, idRank).join(',') !== segmentIds.shape.join(',')) {
    throw new Error(
      `UnsortedSegmentSum: segmentIds shape [${segmentIds.shape}] must prefix x shape [${x.shape}]`,
    );
  }
  const outShape = [numSegments, ...x.shape.slice(idRank)];
  const xv = read(b, x);
  const ids = read(b, segmentIds);
  if (b.makeOutput && b.typedArrayFromHeap) {
    const out = b.makeOutput(outShape, 'float32');
    segmentSumRows(xv, ids, numSegments, b.typedArrayFromHeap(out) as Float32Array);
    return out;
  }
  if (!b.makeTensorInfo) throw new Error('UnsortedSegmentSum: unsupported backend');
  const values = new Float32Array(outShape.reduce((a, d) => a * d, 1));
  segmentSumRows(xv, ids, numSegments, values);
  return b.makeTensorInfo(outShape, 'float32', values);
};

type HeapArray = Float32Array | Int32Array | Uint8Array;

/**
 * Copies the slice `begin`/`size` of a row-major array of shape `shape` into `out`, one
 * contiguous run at a time (trailing dimensions taken whole are merged into the run).
 */
export function copySlice(x: HeapArray, shape: readonly number[], begin: readonly number[], size: readonly number[], out: HeapArray): void {
  const rank = shape.length;
  if (rank === 0) {
    out[0] = x[0]!;
    return;
  }
  const strides = new Array<number>(rank);
  strides[rank - 1] = 1;
  for (let i = rank - 2; i >= 0; i--) strides[i] = strides[i + 1]! * shape[i + 1]!;
  // p: the outermost dimension of the contiguous run; dims after it are whole.
  let p = rank - 1;
  while (p > 0 && begin[p] === 0 && size[p] === shape[p]) p--;
  const run = size[p]! * strides[p]!;
  let base = 0;
  for (let i = 0; i <= p; i++) base += begin[i]! * strides[i]!;
  const outer = size.slice(0, p);
  const idx = new Array<number>(p).fill(0);
  const total = outer.reduce((a, d) => a * d, 1);
  for (let r = 0, o = 0; r < total; r++, o += run) {
    let off = base;
    for (let i = 0; i < p; i++) off += idx[i]! * strides[i]!;
    out.set(x.subarray(off, off + run), o);
    for (let i = p - 1; i >= 0; i--) {
      if (++idx[i]! < outer[i]!) break;
      idx[i] = 0;
    }
  }
}

interface WasmBackend extends HostBackend {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): HeapArray;
}

interface CpuBackend extends HostBackend {
  makeTensorInfo(shape: number[], dtype: string, values?: unknown): TensorInfo;
}

function sliceOn(backend: unknown, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const b = backend as WasmBackend & CpuBackend;
  const n = size.reduce((a, d) => a * d, 1);
  if (b.typedArrayFromHeap) {
    const out = b.makeOutput(size, x.dtype);
    // Views only after allocating: growing the heap detaches earlier views.
    if (n > 0) copySlice(b.typedArrayFromHeap(x), x.shape, begin, size, b.typedArrayFromHeap(out));
    return out;
  }
  // cpu: readSync returns the stored array itself, no copy.
  const xs = b.readSync(x.dataId) as HeapArray;
  const out = x.dtype === 'float32' ? new Float32Array(n) : x.dtype === 'int32' ? new Int32Array(n) : new Uint8Array(n);
  if (n > 0) copySlice(xs, x.shape, begin, size, out);
  return b.makeTensorInfo(size, x.dtype, out);
}

function viewable(dtype: string): boolean {
  return dtype === 'float32' || dtype === 'int32' || dtype === 'bool';
}

function registerSliceKernels(backendName: 'cpu' | 'wasm'): void {
  const origSlice = tf.getKernel('Slice', backendName);
  const origUnpack = tf.getKernel('Unpack', backendName);
  const origSplit = tf.getKernel('SplitV', backendName);
  if (!origSlice || !origUnpack || !origSplit) return;
  const slice: KernelFunc = (args) => {
    const x = args.inputs['x'] as TensorInfo;
    if (!viewable(x.dtype)) return origSlice.kernelFunc(args);
    const { begin, size } = args.attrs as { begin: number | number[]; size: number | number[] };
    const [b0, s0] = tf.slice_util.parseSliceParams(x as unknown as Tensor, begin, size);
    return sliceOn(args.backend, x, b0, s0);
  };
  const unpack: KernelFunc = (args) => {
    const x = args.inputs['value'] as TensorInfo;
    if (!viewable(x.dtype)) return origUnpack.kernelFunc(args);
    const rank = x.shape.length;
    let axis = (args.attrs as { axis: number }).axis;
    if (axis < 0) axis += rank;
    const outShape = x.shape.filter((_, i) => i !== axis);
    const begin = new Array<number>(rank).fill(0);
    const size = x.shape.slice();
    size[axis] = 1;
    const outs: TensorInfo[] = [];
    for (let i = 0; i < x.shape[axis]!; i++) {
      begin[axis] = i;
      const o = sliceOn(args.backend, x, begin, size);
      outs.push({ dataId: o.dataId, dtype: o.dtype, shape: outShape });
    }
    return outs;
  };
  const split: KernelFunc = (args) => {
    const x = args.inputs['x'] as TensorInfo;
    if (!viewable(x.dtype)) return origSplit.kernelFunc(args);
    const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number | number[]; axis: number };
    const ax = tf.util.parseAxisParam(axis, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as unknown as Tensor, numOrSizeSplits, ax);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = x.shape.slice();
      size[ax] = s;
      const o = sliceOn(args.backend, x, begin, size);
      begin[ax]! += s;
      return o;
    });
  };
  for (const [name, kernelFunc] of [
    ['Slice', slice],
    ['Unpack', unpack],
    ['SplitV', split],
  ] as const) {
    tf.unregisterKernel(name, backendName);
    tf.registerKernel({ kernelName: name, backendName, kernelFunc });
  }
}

const registered = new Set<string>();

/**
 * Registers the replacement kernels (UnsortedSegmentSum, Slice, Unpack, SplitV) for `backendName`
 * (`cpu` or `wasm`), replacing the backend's own. Idempotent. Does nothing for the
 * native backend, whose kernels are fine.
 */
export function registerTrainingKernels(backendName: string): void {
  if (backendName !== 'cpu' && backendName !== 'wasm') return;
  if (registered.has(backendName)) return;
  if (tf.getKernel('UnsortedSegmentSum', backendName)) tf.unregisterKernel('UnsortedSegmentSum', backendName);
  tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName, kernelFunc: unsortedSegmentSum });
  registerSliceKernels(backendName);
  registered.add(backendName);
}
