/**
 * Kernels that the pure-JS (`cpu`) and WASM backends lack or implement too slowly for training.
 *
 * `UnsortedSegmentSum` is the gradient of every `gather` (every embedding lookup). WASM has no
 * kernel for it at all, so training fails; the `cpu` backend's version builds one mask per segment
 * (per item!), so one SASRec step over a few thousand items takes minutes. The replacement below is
 * a single scatter-add pass over the rows, O(rows × width).
 */
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { tf } from './tf';

/** What this module needs from a backend: the `cpu` and `wasm` backends both provide it. */
interface HostBackend {
  readSync(dataId: object): unknown;
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

const registered = new Set<string>();

/**
 * Registers the fast `UnsortedSegmentSum` for `backendName` (`cpu` or `wasm`), replacing the
 * backend's own if it has one. Idempotent. Does nothing for the native backend, whose kernel is fine.
 */
export function registerTrainingKernels(backendName: string): void {
  if (backendName !== 'cpu' && backendName !== 'wasm') return;
  if (registered.has(backendName)) return;
  if (tf.getKernel('UnsortedSegmentSum', backendName)) tf.unregisterKernel('UnsortedSegmentSum', backendName);
  tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName, kernelFunc: unsortedSegmentSum });
  registered.add(backendName);
}
