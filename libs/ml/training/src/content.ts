/**
 * The content map of a trained encoder (issue 19 part 5): the catalogue's content of the items the
 * model knows, regressed onto their rows of the model's item table ({@link ContentMap}), so that
 * the scorer can give catalogue items the model never saw a vector in the same space.
 */
import { performance } from 'node:perf_hooks';
import { ContentMap, type ContentFeature, type SequenceEncoder } from '@seqrec/model';

/** Content features per item id (`itemContentFeatures` of each catalogue record); items without a record are absent. */
export interface ContentSource {
  features: ReadonlyMap<string, readonly ContentFeature[]>;
}

/** Fewer known items with content than this and no map is fitted: a ridge on a handful of rows is noise. */
export const MIN_ITEMS_WITH_CONTENT = 20;

export interface ContentMapOutcome {
  /** Null when none was fitted (see `reason`). */
  map: ContentMap | null;
  reason: string;
  /** Items the model knows, and how many of them have catalogue content. */
  items: number;
  itemsWithContent: number;
  features: number;
  lambda: number | null;
  seconds: number;
}

/** Fits the map from `content` to the encoder's item rows (model indices 1..N, ids in `vocabulary`). */
export function fitContentMap(encoder: SequenceEncoder, vocabulary: readonly string[], content: ContentSource, seed: number): ContentMapOutcome {
  const t0 = performance.now();
  const d = encoder.config.dim;
  const n = vocabulary.length - 1;
  const feats: (readonly ContentFeature[])[] = new Array(n);
  let withContent = 0;
  for (let m = 1; m <= n; m++) {
    const f = content.features.get(vocabulary[m]!);
    if (f && f.length > 0) withContent++;
    feats[m - 1] = f ?? [];
  }
  const base = { items: n, itemsWithContent: withContent };
  if (withContent < MIN_ITEMS_WITH_CONTENT) {
    return { map: null, reason: `${withContent} of the model's ${n} items have catalogue content (at least ${MIN_ITEMS_WITH_CONTENT} needed)`, ...base, features: 0, lambda: null, seconds: (performance.now() - t0) / 1000 };
  }
  const rows = (encoder.itemTable().dataSync() as Float32Array).subarray(d, (n + 1) * d);
  const map = ContentMap.fit(feats, Float32Array.from(rows), d, { seed });
  const seconds = (performance.now() - t0) / 1000;
  if (map.features.length === 0) return { map: null, reason: 'no content feature is shared by two known items', ...base, features: 0, lambda: null, seconds };
  return { map, reason: `fitted on ${withContent} of ${n} items, ${map.features.length} features, lambda ${map.lambda}`, ...base, features: map.features.length, lambda: map.lambda, seconds };
}
