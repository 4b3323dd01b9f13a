import { join, resolve } from 'node:path';
import { loadEnv, str } from '@seqrec/config';
import type { DatasetFormat } from './loaders/load';

/** A dataset file of the shared folder, with the counts its SOURCE.md states. */
export interface KnownDataset {
  /** Path relative to the datasets root. */
  file: string;
  format: DatasetFormat;
  /** Name put on result rows. */
  name: string;
  users: number;
  items: number;
  interactions: number;
}

/**
 * The shared datasets this library knows, keyed by a short name. Counts are from each
 * `SOURCE.md` (for Yoochoose: sessions, items and clicks of `train_full`).
 */
export const KNOWN_DATASETS: Readonly<Record<string, KnownDataset>> = Object.freeze({
  'ml-1m': { file: 'ml-1m-sasrec/ml-1m.txt.gz', format: 'sasrec', name: 'ml-1m', users: 6040, items: 3416, interactions: 999611 },
  beauty: { file: 'amazon-s3rec/Beauty.txt.gz', format: 's3rec', name: 'beauty-s3rec', users: 22363, items: 12101, interactions: 198502 },
  toys: { file: 'amazon-s3rec/Toys_and_Games.txt.gz', format: 's3rec', name: 'toys-s3rec', users: 19412, items: 11924, interactions: 167597 },
  games: { file: 'amazon-games-sasrec/Video.txt.gz', format: 'sasrec', name: 'games-sasrec', users: 31013, items: 23715, interactions: 287107 },
  'beauty-bert4rec': { file: 'amazon-beauty-bert4rec/beauty.txt.gz', format: 'sasrec', name: 'beauty-bert4rec', users: 40226, items: 54542, interactions: 353962 },
  taobao: { file: 'taobao-userbehavior-head/UserBehavior_head.csv.gz', format: 'taobao', name: 'taobao-head', users: 814, items: 55233, interactions: 84287 },
  yoochoose: { file: 'yoochoose-rsc15-100k/yoochoose-clicks-100k_train_full.txt.gz', format: 'yoochoose', name: 'rsc15-100k', users: 17794, items: 2933, interactions: 70278 },
});

/** The datasets' variable, read by the CLIs, benchmarks and tests that load a known dataset. */
export const datasetsEnv = {
  SEQREC_DATASETS: str({ default: '', desc: 'folder holding the shared datasets; empty: <repo>/../shared/datasets' }),
};

/**
 * Folder holding the shared datasets: `$SEQREC_DATASETS`, else `<repo>/../shared/datasets`
 * (the repository root found from this file's location, `libs/ml/datasets/dist`).
 */
export function datasetsRoot(): string {
  return loadEnv(datasetsEnv).SEQREC_DATASETS || resolve(__dirname, '..', '..', '..', '..', '..', 'shared', 'datasets');
}

/** Absolute path of a known dataset's file (or of `file` itself when it is not a known key). */
export function datasetPath(keyOrFile: string): string {
  const known = KNOWN_DATASETS[keyOrFile];
  return known ? join(datasetsRoot(), known.file) : resolve(keyOrFile);
}
