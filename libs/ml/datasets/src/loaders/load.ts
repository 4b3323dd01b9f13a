import { DatasetFormatError, headLines } from '../io';
import type { SequenceDataset } from '../types';
import { loadS3Rec, loadSasRec } from './int-sequences';
import { loadMapped, TABLE_FORMATS, type ColumnMapping } from './mapped';
import { loadTaobao, type TaobaoOptions } from './taobao';
import { loadYoochoose, type YoochooseOptions } from './yoochoose';

export const DATASET_FORMATS = ['sasrec', 's3rec', 'taobao', 'yoochoose', ...TABLE_FORMATS] as const;
/**
 * - `sasrec`: `<user> <item>` per line (SASRec / BERT4Rec files);
 * - `s3rec`: `<user> <item> <item> ...` per line (S3-Rec files);
 * - `taobao`: `user,item,category,behavior,timestamp` CSV (UserBehavior);
 * - `yoochoose`: session clicks, session-rec header layout or raw `yoochoose-clicks.dat`;
 * - `csv`, `tsv`, `jsonl`: any event export, read through a column mapping (`columns`, see
 *   {@link loadMapped}); never detected, always named.
 */
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

export type LoadOptions = { name?: string; columns?: Omit<ColumnMapping, 'format'> } & TaobaoOptions & YoochooseOptions;

const BEHAVIOR = /^(pv|cart|fav|buy)$/;
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d/;
const INT_ROW = /^\d+([ \t]+\d+)+[ \t]*$/;

/**
 * Guesses the format from the first lines (up to `sampleLines`): a `SessionId` header or an ISO
 * timestamp in column 2 means Yoochoose, a `pv|cart|fav|buy` fourth column Taobao, integer rows
 * of exactly two numbers SASRec and integer rows of varying width S3-Rec. A file whose sampled
 * lines are all `<user> <item>` is read as SASRec; an S3-Rec file where every user has one item
 * reads the same either way.
 */
export async function detectFormat(path: string, sampleLines = 50): Promise<DatasetFormat> {
  const lines = (await headLines(path, sampleLines)).filter((l) => l.trim().length > 0);
  if (lines.length === 0) throw new DatasetFormatError('empty file, cannot detect its format', path);
  const first = lines[0]!;
  if (/sessionid/i.test(first)) return 'yoochoose';
  const csv = first.split(',');
  if (csv.length === 5 && BEHAVIOR.test(csv[3]!)) return 'taobao';
  if (csv.length === 4 && ISO_TIME.test(csv[1]!)) return 'yoochoose';
  if (lines.every((l) => INT_ROW.test(l))) {
    return lines.every((l) => l.trim().split(/[ \t]+/).length === 2) ? 'sasrec' : 's3rec';
  }
  throw new DatasetFormatError(`cannot detect the format from ${JSON.stringify(first.slice(0, 120))}`, path, 1);
}

/** Loads a dataset file in `format` (detected from its first lines when 'auto'). */
export async function loadDataset(path: string, format: DatasetFormat | 'auto' = 'auto', options: LoadOptions = {}): Promise<SequenceDataset> {
  const f = format === 'auto' ? await detectFormat(path) : format;
  switch (f) {
    case 'sasrec':
      return loadSasRec(path, options);
    case 's3rec':
      return loadS3Rec(path, options);
    case 'taobao':
      return loadTaobao(path, options);
    case 'yoochoose':
      return loadYoochoose(path, options);
    case 'csv':
    case 'tsv':
    case 'jsonl':
      if (!options.columns) throw new DatasetFormatError(`format ${f} needs a column mapping (which column is the user or session, the item, the time, ...)`, path);
      return loadMapped(path, { ...options.columns, format: f }, {
        ...(options.name !== undefined ? { name: options.name } : {}),
        ...(options.minLength !== undefined ? { minLength: options.minLength } : {}),
      });
    default:
      throw new RangeError(`unknown dataset format "${String(f)}", expected one of ${DATASET_FORMATS.join(', ')}`);
  }
}
