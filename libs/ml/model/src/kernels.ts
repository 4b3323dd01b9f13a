/**
 * Kernels that the pure-JS (`cpu`) backend implements too slowly even for the unit tests' tiny
 * training runs (training proper is for the native backend; measured: the model tests' training
 * took 238 s instead of 12 s without these).
 *
 * `UnsortedSegmentSum` is the gradient of every `gather` (every embedding lookup). The `cpu`
 * backend's version builds one mask per segment (per item!). The replacement below is a single
 * scatter-add pass over the rows, O(rows × width).
 *
 * The `cpu` backend's slice of a non-contiguous region goes element by element (1.2 s to unstack
 * [128, 200, 50] over axis 1), and `Unpack` (unstack) and `SplitV` (split) slice once per output;
 * the replacements copy contiguous runs.
 */
import type { KernelFunc, Tensor, TensorInfo } from '@tensorflow/tfjs';
import { tf } from './tf';

/** What this module needs from the `cpu` backend. */
interface CpuBackend {
  readSync(dataId: object): unknown;
  makeTensorInfo(shape: number[], dtype: string, values?: unknown): TensorInfo;
}

function read(backend: CpuBackend, t: TensorInfo): Float32Array | Int32Array {
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
  const b = backend as unknown as CpuBackend;
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

function sliceOn(backend: unknown, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const b = backend as CpuBackend;
  const n = size.reduce((a, d) => a * d, 1);
  // readSync returns the stored array itself, no copy.
  const xs = b.readSync(x.dataId) as HeapArray;
  const out = x.dtype === 'float32' ? new Float32Array(n) : x.dtype === 'int32' ? new Int32Array(n) : new Uint8Array(n);
  if (n > 0) copySlice(xs, x.shape, begin, size, out);
  return b.makeTensorInfo(size, x.dtype, out);
}

function viewable(dtype: string): boolean {
  return dtype === 'float32' || dtype === 'int32' || dtype === 'bool';
}

function registerSliceKernels(backendName: 'cpu'): void {
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
 * Registers the replacement kernels (UnsortedSegmentSum, Slice, Unpack, SplitV) when `backendName`
 * is `cpu`, replacing the backend's own. Idempotent. Does nothing for the other backends.
 */
export function registerTrainingKernels(backendName: string): void {
  if (backendName !== 'cpu') return;
  if (registered.has(backendName)) return;
  if (tf.getKernel('UnsortedSegmentSum', backendName)) tf.unregisterKernel('UnsortedSegmentSum', backendName);
  tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName, kernelFunc: unsortedSegmentSum });
  registerSliceKernels(backendName);
  registered.add(backendName);
}
