import { bool, makeValidator, type CleanedEnv } from '@seqrec/config';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

export function isBackendName(s: string): s is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(s);
}

const backendName = makeValidator<BackendName | ''>((input) => {
  const s = input.trim();
  if (s !== '' && !isBackendName(s)) throw new Error(`must be one of ${BACKEND_NAMES.join('|')}, got "${s}"`);
  return s as BackendName | '';
});

/**
 * Variables of the model runtime, read by every process that runs a model: the trainer, embedding
 * and scorer services (validated with their other variables) and the CLIs and benchmarks (through
 * {@link initBackend}'s default settings).
 */
export const backendEnv = {
  SEQREC_TF_BACKEND: backendName({ default: '', desc: 'force a TF.js backend, tensorflow|wasm|cpu, failing instead of falling back; empty: tensorflow, else wasm, else cpu' }),
  TF_ENABLE_ONEDNN_OPTS: bool({ default: true, desc: "libtensorflow's oneDNN kernels (run-time AVX2/FMA/AVX-512 dispatch); false: its Eigen kernels, built for AVX only" }),
  SEQREC_SIMD: bool({ default: true, desc: 'the WebAssembly SIMD kernels (exact top-k, dot products, inline encoders); false: their scalar JS fallbacks' }),
};

export type BackendEnv = CleanedEnv<typeof backendEnv>;
