/**
 * WebAssembly kernels from their text format (WAT), compiled by wabt (the WebAssembly Binary
 * Toolkit's own parser, `wabt` on npm) when a process loads them: the WAT next to each kernel's
 * TypeScript (simd-dot.ts, exact-topk.ts) is the one source of the kernel.
 *
 * wabt starts asynchronously (~0.1 s), the kernels are built synchronously (a table's exact top-k
 * compiles its own unrolled kernel): call {@link loadWat} once before the first kernel is built.
 * `initBackend` does, so every service, benchmark and test that selects a TF.js backend has it;
 * code that builds kernels without a backend awaits it itself.
 */
type WabtModule = Awaited<ReturnType<typeof import('wabt')>>;

let loading: Promise<WabtModule> | null = null;
let simdAllowed = true;

/**
 * Allows or forbids the SIMD kernels (SEQREC_SIMD, applied by initBackend): forbidden, kernels
 * built from then on are null and their callers run the scalar JS fallback.
 */
export function allowSimd(allowed: boolean): void {
  simdAllowed = allowed;
}

/** Whether {@link allowSimd} allows the SIMD kernels (the default). */
export function isSimdAllowed(): boolean {
  return simdAllowed;
}

let wabt: WabtModule | null = null;

/** Starts wabt (once per process; later calls return the same promise). */
export function loadWat(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loading ??= (require('wabt') as () => Promise<WabtModule>)().then((w) => (wabt = w));
  return loading.then(() => undefined);
}

/**
 * The module compiled from `text`, or null where WebAssembly SIMD is unavailable (the module does
 * not validate) or SIMD is not allowed ({@link allowSimd}, SEQREC_SIMD): callers then run their scalar JS loop. Throws on a WAT error and
 * before {@link loadWat} has finished.
 */
export function compileWat(name: string, text: string): WebAssembly.Module | null {
  if (!simdAllowed || typeof WebAssembly === 'undefined') return null;
  const bytes = watToWasm(name, text);
  return WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
}

/** The binary module of a WAT text (SIMD enabled). Throws on a WAT error and before {@link loadWat} has finished. */
export function watToWasm(name: string, text: string): Uint8Array {
  if (!wabt) throw new Error(`WebAssembly kernel ${name}: await loadWat() (or initBackend()) before building kernels`);
  const parsed = wabt.parseWat(`${name}.wat`, text, { simd: true });
  try {
    parsed.validate();
    return parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
}
