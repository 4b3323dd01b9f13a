/**
 * Backend selection. Preference order: native TensorFlow (`@tensorflow/tfjs-node`), then WASM
 * (SIMD, single thread in Node), then pure JS (`cpu`). Training is for the native backend (the
 * `cpu` backend trains the unit tests' tiny models); the fallbacks keep serving up. Falling back is
 * allowed but never silent.
 *
 * `SEQREC_TF_BACKEND=tensorflow|wasm|cpu` forces a backend: if the forced backend cannot start,
 * {@link initBackend} throws instead of falling back. The variables ({@link backendEnv}) come in as
 * {@link BackendSettings}: a service passes its validated ones, other programs get them from
 * {@link backendSettingsFromEnv}.
 *
 * oneDNN: the TensorFlow C library from the tensorflow-cpu wheel ships oneDNN kernels but leaves
 * them off unless `TF_ENABLE_ONEDNN_OPTS=1` (the Python package turns them on itself; the C library
 * does not). Eigen's kernels in that build are compiled for AVX only, while oneDNN dispatches on the
 * CPU at run time (AVX2/FMA/AVX-512), so seqrec turns oneDNN on unless the variable is already set.
 * Measured on 2 cores (npm run bench:train, same run): ML-1M SASRec trains 1.44× (softmax) and
 * 1.35× (BCE) faster; GRU4Rec the same. A lone [1, 64] × [64, 50,000] matMul takes 0.85 instead of
 * 1.37 ms, but the scorer's CPU per request under load measured the same either way (bench:score
 * A/B). `TF_ENABLE_ONEDNN_OPTS=0` turns it off.
 */
import { loadEnv, setNativeEnv } from '@seqrec/config';
import { BACKEND_NAMES, backendEnv, type BackendEnv, type BackendName } from './backend.env';
import { registerTrainingKernels } from './kernels';
import { tf, type TF } from './tf';
import { allowSimd, loadWat } from './wat';

/** The model runtime's settings ({@link backendEnv}). */
export type BackendSettings = Pick<BackendEnv, 'SEQREC_TF_BACKEND' | 'TF_ENABLE_ONEDNN_OPTS' | 'SEQREC_SIMD'>;

/** The settings of the process environment, validated (throws an EnvError naming each bad one). */
export function backendSettingsFromEnv(): BackendSettings {
  return loadEnv(backendEnv);
}

export interface BackendInfo {
  /** The backend now active on the TF.js engine. */
  name: BackendName;
  /** The TF.js namespace to use (the same engine whichever backend is active). */
  tf: TF;
  /** True for the native libtensorflow backend. */
  native: boolean;
  /** e.g. `tfjs-core 4.22.0, tfjs-node 4.22.0 (oneDNN on)`. */
  version: string;
  /** Native only: whether libtensorflow's oneDNN kernels are on (`TF_ENABLE_ONEDNN_OPTS`). */
  onednn: boolean;
  /** Why a preferred backend was skipped, one line per skipped backend. Empty when none was. */
  fallbackReasons: string[];
}

let current: BackendInfo | null = null;
/** Whether oneDNN was asked for when the native backend first started (libtensorflow reads it once). */
let onednn: boolean | null = null;

async function tryBackend(name: BackendName, settings: BackendSettings): Promise<string> {
  switch (name) {
    case 'tensorflow': {
      // Read by libtensorflow when it first builds a kernel, so it must be set before any op runs.
      if (onednn === null) {
        onednn = settings.TF_ENABLE_ONEDNN_OPTS;
        setNativeEnv('TF_ENABLE_ONEDNN_OPTS', onednn ? '1' : '0');
      }
      // The require itself registers the backend; it throws when the native addon is missing.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const node = require('@tensorflow/tfjs-node') as { version?: Record<string, string> };
      if (!(await tf.setBackend('tensorflow'))) throw new Error('tf.setBackend("tensorflow") returned false');
      return `tfjs-node ${node.version?.['tfjs-node'] ?? '?'} (oneDNN ${onednnOn() ? 'on' : 'off'})`;
    }
    case 'wasm': {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const wasm = require('@tensorflow/tfjs-backend-wasm') as { version_wasm?: string };
      if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") returned false');
      return `tfjs-backend-wasm ${wasm.version_wasm ?? '?'}`;
    }
    case 'cpu':
      if (!(await tf.setBackend('cpu'))) throw new Error('tf.setBackend("cpu") returned false');
      return 'tfjs-backend-cpu';
  }
}

/** Whether libtensorflow uses its oneDNN kernels (false before the native backend started). */
export function onednnOn(): boolean {
  return onednn === true;
}

function warnLoudly(lines: string[]): void {
  const bar = '!'.repeat(78);
  console.warn([bar, ...lines.map((l) => `!! ${l}`), bar].join('\n'));
}

/**
 * Selects and initialises the TF.js backend (once per process; later calls return the same info
 * unless a different backend is asked for explicitly), and loads the WebAssembly kernels' compiler
 * ({@link loadWat}).
 *
 * @param preferred first backend to try (default `tensorflow`); the ones after it in
 *   `tensorflow → wasm → cpu` order are the fallbacks. Overridden by `SEQREC_TF_BACKEND`.
 * @param settings the runtime's variables; default: those of the process environment
 * @throws when `SEQREC_TF_BACKEND` names an unknown backend or one that cannot start.
 */
export async function initBackend(preferred?: BackendName, settings: BackendSettings = backendSettingsFromEnv()): Promise<BackendInfo> {
  // The WebAssembly kernels (exact top-k, inline encoders, index scans) compile from WAT with wabt.
  await loadWat();
  const forced = settings.SEQREC_TF_BACKEND || undefined;
  allowSimd(settings.SEQREC_SIMD);
  const first = forced ?? preferred ?? 'tensorflow';
  if (current && (current.name === first || (!forced && preferred === undefined))) return current;

  const order = forced ? [forced] : BACKEND_NAMES.slice(BACKEND_NAMES.indexOf(first));
  const reasons: string[] = [];
  for (const name of order) {
    try {
      const detail = await tryBackend(name, settings);
      registerTrainingKernels(name);
      if (reasons.length > 0) {
        warnLoudly([
          `TF.js is running on the "${name}" backend, NOT the preferred "${first}".`,
          ...reasons,
          'Training is supported on the native backend only (the cpu backend is for unit tests on tiny models).',
          'Set SEQREC_TF_BACKEND to force a backend (and fail instead of falling back).',
        ]);
      }
      current = {
        name,
        tf,
        native: name === 'tensorflow',
        onednn: name === 'tensorflow' && onednnOn(),
        version: `tfjs-core ${tf.version_core}, ${detail}`,
        fallbackReasons: reasons,
      };
      return current;
    } catch (err) {
      const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0];
      if (forced) throw new Error(`SEQREC_TF_BACKEND=${forced} but that backend cannot start: ${msg}`);
      reasons.push(`"${name}" unavailable: ${msg}`);
    }
  }
  throw new Error(`no TF.js backend could start:\n${reasons.join('\n')}`);
}

/** The backend chosen by the last {@link initBackend}, or null before the first call. */
export function currentBackend(): BackendInfo | null {
  return current;
}
