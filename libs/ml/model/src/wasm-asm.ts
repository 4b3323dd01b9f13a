/**
 * The few pieces of the WebAssembly binary format the hand-assembled kernels (simd-dot.ts,
 * exact-topk.ts) are written with: section framing, LEB128, and the instructions they use. Each
 * kernel's spec tests check its module against plain JS arithmetic.
 */

export const SIMD = 0xfd;
/** v128.load with align 2^2 and a byte offset below 128. */
export const V128_LOAD = (offset: number): number[] => [SIMD, 0x00, 0x02, offset];
export const V128_ZERO = [SIMD, 0x0c, ...new Array<number>(16).fill(0)];
export const GET = (i: number): number[] => [0x20, i];
export const SET = (i: number): number[] => [0x21, i];
export const TEE = (i: number): number[] => [0x22, i];
/** i32.const for 0 ≤ v < 64 (one-byte signed LEB128). */
export const I32 = (v: number): number[] => {
  if (!Number.isInteger(v) || v < 0 || v >= 64) throw new RangeError(`I32: ${v} needs a longer encoding`);
  return [0x41, v];
};
/** i32.const for any i32 (signed LEB128). */
export const I32_CONST = (v: number): number[] => {
  const out: number[] = [0x41];
  let x = v | 0;
  for (;;) {
    const byte = x & 0x7f;
    x >>= 7;
    const done = (x === 0 && (byte & 0x40) === 0) || (x === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
};
export const I32_ADD = 0x6a;
export const I32_SUB = 0x6b;

/**
 * The opening both kernels share: `block $done`, return at once when `count` is 0, `loop $row`
 * zeroing two v128 accumulators and pointing `qp` at the query, `j` at the chunk count, and
 * `loop $chunk`. The caller writes the chunk's body and closes the loops and the block.
 */
export function rowLoopOpening(l: { count: number; q: number; qp: number; chunks: number; j: number; a0: number; a1: number }): number[] {
  return [
    0x02, 0x40, // block $done
    ...GET(l.count), 0x45, 0x0d, 0x00, // br_if $done (count == 0)
    0x03, 0x40, // loop $row
    ...V128_ZERO, ...SET(l.a0),
    ...V128_ZERO, ...SET(l.a1),
    ...GET(l.q), ...SET(l.qp),
    ...GET(l.chunks), ...SET(l.j),
    0x03, 0x40, // loop $chunk
  ];
}

/** Unsigned LEB128. */
export function leb(v: number): number[] {
  const out: number[] = [];
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** A section: id, byte length, content. */
export function section(id: number, content: number[]): number[] {
  return [id, ...leb(content.length), ...content];
}

const name = (s: string): number[] => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];

export const I32_T = 0x7f;
export const F32_T = 0x7d;

/**
 * A module importing its memory as `env.mem` and exporting one function `(params) → ()`: `params`
 * is the number of i32 parameters, or the list of their value types (I32_T, F32_T). `locals` are
 * already encoded (count of groups, then count and type per group); `body` ends with the
 * function's `end`.
 */
export function kernelModule(exportName: string, params: number | number[], locals: number[], body: number[]): Uint8Array {
  const types = typeof params === 'number' ? new Array<number>(params).fill(I32_T) : params;
  const func = [...locals, ...body];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // \0asm, version 1
    ...section(0x01, [0x01, 0x60, types.length, ...types, 0x00]), // type: (params) → ()
    ...section(0x02, [0x01, ...name('env'), ...name('mem'), 0x02, 0x00, 0x00]), // import memory, min 0 pages
    ...section(0x03, [0x01, 0x00]), // one function of type 0
    ...section(0x07, [0x01, ...name(exportName), 0x00, 0x00]), // export it
    ...section(0x0a, [0x01, ...leb(func.length), ...func]),
  ]);
}

let simdAllowed = true;

/**
 * Allows or forbids the SIMD kernels (SEQREC_SIMD, applied by initBackend): forbidden, kernels
 * created from then on run their scalar JS fallback.
 */
export function allowSimd(allowed: boolean): void {
  simdAllowed = allowed;
}

/** Whether {@link allowSimd} allows the SIMD kernels (the default). */
export function isSimdAllowed(): boolean {
  return simdAllowed;
}

/** Compiles `bytes`, or null where WebAssembly (SIMD) is unavailable, the module does not validate, or SIMD is not allowed. */
export function compileKernel(bytes: Uint8Array): WebAssembly.Module | null {
  if (!simdAllowed || typeof WebAssembly === 'undefined') return null;
  return WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
}
