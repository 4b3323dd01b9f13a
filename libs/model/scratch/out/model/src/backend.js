"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.BACKEND_NAMES = void 0;
exports.initBackend = initBackend;
exports.currentBackend = currentBackend;
/**
 * Backend selection. Preference order: native TensorFlow (`@tensorflow/tfjs-node`), then WASM
 * (SIMD, single thread in Node), then pure JS (`cpu`). Native is 1–2 orders of magnitude faster to
 * train than `cpu`; falling back is allowed but never silent.
 *
 * `SEQREC_TF_BACKEND=tensorflow|wasm|cpu` forces a backend: if the forced backend cannot start,
 * {@link initBackend} throws instead of falling back.
 */
const kernels_1 = require("./kernels");
const tf_1 = require("./tf");
exports.BACKEND_NAMES = ['tensorflow', 'wasm', 'cpu'];
let current = null;
function isBackendName(s) {
    return exports.BACKEND_NAMES.includes(s);
}
async function tryBackend(name) {
    switch (name) {
        case 'tensorflow': {
            // The require itself registers the backend; it throws when the native addon is missing.
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const node = require('@tensorflow/tfjs-node');
            if (!(await tf_1.tf.setBackend('tensorflow')))
                throw new Error('tf.setBackend("tensorflow") returned false');
            return `tfjs-node ${node.version?.['tfjs-node'] ?? '?'}`;
        }
        case 'wasm': {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const wasm = require('@tensorflow/tfjs-backend-wasm');
            if (!(await tf_1.tf.setBackend('wasm')))
                throw new Error('tf.setBackend("wasm") returned false');
            return `tfjs-backend-wasm ${wasm.version_wasm ?? '?'}`;
        }
        case 'cpu':
            if (!(await tf_1.tf.setBackend('cpu')))
                throw new Error('tf.setBackend("cpu") returned false');
            return 'tfjs-backend-cpu';
    }
}
function warnLoudly(lines) {
    const bar = '!'.repeat(78);
    console.warn([bar, ...lines.map((l) => `!! ${l}`), bar].join('\n'));
}
/**
 * Selects and initialises the TF.js backend (once per process; later calls return the same info
 * unless a different backend is asked for explicitly).
 *
 * @param preferred first backend to try (default `tensorflow`); the ones after it in
 *   `tensorflow → wasm → cpu` order are the fallbacks. Overridden by `SEQREC_TF_BACKEND`.
 * @throws when `SEQREC_TF_BACKEND` names an unknown backend or one that cannot start.
 */
async function initBackend(preferred) {
    const forcedRaw = process.env['SEQREC_TF_BACKEND']?.trim();
    if (forcedRaw && !isBackendName(forcedRaw)) {
        throw new Error(`SEQREC_TF_BACKEND must be one of ${exports.BACKEND_NAMES.join('|')}, got "${forcedRaw}"`);
    }
    const forced = forcedRaw;
    const first = forced ?? preferred ?? 'tensorflow';
    if (current && (current.name === first || (!forced && preferred === undefined)))
        return current;
    const order = forced ? [forced] : exports.BACKEND_NAMES.slice(exports.BACKEND_NAMES.indexOf(first));
    const reasons = [];
    for (const name of order) {
        try {
            const detail = await tryBackend(name);
            (0, kernels_1.registerTrainingKernels)(name);
            if (reasons.length > 0) {
                warnLoudly([
                    `TF.js is running on the "${name}" backend, NOT the preferred "${first}".`,
                    ...reasons,
                    name === 'cpu'
                        ? 'Training on "cpu" is 10-20x slower than wasm and far slower than native.'
                        : 'Training is several times slower than on the native backend.',
                    'Set SEQREC_TF_BACKEND to force a backend (and fail instead of falling back).',
                ]);
            }
            current = {
                name,
                tf: tf_1.tf,
                native: name === 'tensorflow',
                version: `tfjs-core ${tf_1.tf.version_core}, ${detail}`,
                fallbackReasons: reasons,
            };
            return current;
        }
        catch (err) {
            const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0];
            if (forced)
                throw new Error(`SEQREC_TF_BACKEND=${forced} but that backend cannot start: ${msg}`);
            reasons.push(`"${name}" unavailable: ${msg}`);
        }
    }
    throw new Error(`no TF.js backend could start:\n${reasons.join('\n')}`);
}
/** The backend chosen by the last {@link initBackend}, or null before the first call. */
function currentBackend() {
    return current;
}
//# sourceMappingURL=backend.js.map