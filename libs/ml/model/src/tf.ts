/**
 * The one TF.js namespace all model code uses. `@tensorflow/tfjs-node`, when it loads, re-exports
 * this same package and registers its native backend on the same engine, so ops called through
 * this namespace run on whichever backend {@link initBackend} selected.
 */
import * as tf from '@tensorflow/tfjs';

export { tf };
export type TF = typeof tf;
