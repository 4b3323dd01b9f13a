import { DatasetFormatError, parseIntTokens, scanLines } from '../io';
import type { SequenceDataset } from '../types';
import { nameFromPath } from '../vocabulary';
import { Int32Column, NumberIndex } from './columns';

export interface IntFileOptions {
  /** Dataset name; default the file name without extensions (`ml-1m`). */
  name?: string;
}

/**
 * Loads the SASRec / BERT4Rec format: one interaction per line, `<user> <item>`, space separated,
 * no header, integer ids from 1, lines already in chronological order inside each user (the files
 * of kang205/SASRec and FeiSun/BERT4Rec: `ml-1m.txt`, `Video.txt`, `beauty.txt`).
 *
 * Item ids are kept as they are (index = id, `numItems` = the largest id), so item numbers match
 * the published code, which also takes `itemnum = max(id)`. Users are numbered in order of first
 * appearance; a user whose lines are not contiguous still gets one sequence (lines in file order).
 * No timestamps or event types (the files have none).
 */
export async function loadSasRec(path: string, options: IntFileOptions = {}): Promise<SequenceDataset> {
  const users = new NumberIndex();
  const userOf = new Int32Column(1 << 16);
  const itemOf = new Int32Column(1 << 16);
  const row: number[] = [0, 0, 0];
  let lastUser = -1;
  let lastIndex = -1;
  await scanLines(path, (buf, start, end, lineNo) => {
    if (start === end) return;
    const n = parseIntTokens(buf, start, end, row);
    if (n === 0) return;
    if (n !== 2) throw new DatasetFormatError(`expected "<user> <item>", got ${JSON.stringify(buf.toString('latin1', start, end))}`, path, lineNo);
    const item = row[1]!;
    if (item < 1) throw new DatasetFormatError(`item id must be >= 1 (0 is padding), got ${item}`, path, lineNo);
    if (row[0] !== lastUser) {
      lastUser = row[0]!;
      lastIndex = users.get(lastUser);
    }
    userOf.push(lastIndex);
    itemOf.push(item);
  });
  return assemble(path, options, users, userOf, itemOf);
}

/**
 * Loads the S3-Rec format: one user per line, `<user> <item_1> ... <item_n>`, oldest first
 * (RUCAIBox/CIKM2020-S3Rec `data/Beauty.txt`, `Toys_and_Games.txt`; also FMLP-Rec, ICLRec...).
 * Item ids kept as they are, as in `loadSasRec`. A line with a user and no items is an error.
 */
export async function loadS3Rec(path: string, options: IntFileOptions = {}): Promise<SequenceDataset> {
  const users = new NumberIndex();
  const userOf = new Int32Column(1 << 16);
  const itemOf = new Int32Column(1 << 16);
  const row: number[] = [];
  await scanLines(path, (buf, start, end, lineNo) => {
    if (start === end) return;
    const n = parseIntTokens(buf, start, end, row);
    if (n === 0) return;
    if (n < 2) throw new DatasetFormatError(`expected "<user> <item> <item> ...", got ${JSON.stringify(buf.toString('latin1', start, end))}`, path, lineNo);
    const u = users.get(row[0]!);
    for (let k = 1; k < n; k++) {
      const item = row[k]!;
      if (item < 1) throw new DatasetFormatError(`item id must be >= 1 (0 is padding), got ${item}`, path, lineNo);
      userOf.push(u);
      itemOf.push(item);
    }
  });
  return assemble(path, options, users, userOf, itemOf);
}

function assemble(path: string, options: IntFileOptions, users: NumberIndex, userOf: Int32Column, itemOf: Int32Column): SequenceDataset {
  const U = users.size;
  const lengths = new Int32Array(U);
  let maxItem = 0;
  for (let e = 0; e < userOf.length; e++) {
    lengths[userOf.data[e]!]!++;
    if (itemOf.data[e]! > maxItem) maxItem = itemOf.data[e]!;
  }
  const sequences = Array.from(lengths, (n) => new Int32Array(n));
  const fill = new Int32Array(U);
  for (let e = 0; e < userOf.length; e++) {
    const u = userOf.data[e]!;
    sequences[u]![fill[u]!++] = itemOf.data[e]!;
  }
  const itemIds = new Array<string>(maxItem + 1);
  itemIds[0] = '';
  for (let i = 1; i <= maxItem; i++) itemIds[i] = String(i);
  return {
    name: options.name ?? nameFromPath(path),
    numItems: maxItem,
    itemIds,
    users: users.keys.map(String),
    sequences,
  };
}
