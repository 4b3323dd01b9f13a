import { EVENT_TYPE_CODE } from '@seqrec/contracts';
import { lineError, parseUint, scanLines, splitFields } from '../io';
import { sessionCases } from '../split';
import type { EvalCase, SequenceDataset } from '../types';
import { ItemVocabulary, nameFromPath } from '../vocabulary';
import { buildDataset } from './build';
import { Float64Column, Int32Column, NumberIndex } from './columns';

export interface YoochooseOptions {
  /** Dataset name; default from the file name. */
  name?: string;
  /** Sessions with fewer clicks (after the other filters) are dropped. Default 1. */
  minLength?: number;
  /** Map items through this vocabulary instead of building one (e.g. the training file's). */
  vocabulary?: ItemVocabulary;
  /** Items missing from `vocabulary`: added to it (default) or their clicks dropped. */
  unknownItems?: 'add' | 'drop';
}

const TAB = 0x09;
const COMMA = 0x2c;

/**
 * Loads YOOCHOOSE (RecSys Challenge 2015) clicks as one sequence per session (`users` holds the
 * session ids), clicks sorted by time (stable), every event typed `click`, items remapped to 1..N
 * in order of first appearance. Two layouts are recognised from the first line:
 *
 * - session-rec / GRU4Rec prepared files: a header naming `SessionId`, `ItemId` and `Time`
 *   (tab or comma separated, any column order), `Time` in Unix seconds (fractional);
 * - the raw challenge file `yoochoose-clicks.dat`: `session,timestamp,item,category`, no header,
 *   ISO-8601 timestamps (`2014-04-07T10:51:09.277Z`). Category is not kept.
 */
export async function loadYoochoose(path: string, options: YoochooseOptions = {}): Promise<SequenceDataset> {
  const sessions = new NumberIndex();
  const items = new NumberIndex();
  const group = new Int32Column(1 << 16);
  const item = new Int32Column(1 << 16);
  const ts = new Float64Column(1 << 16);
  const starts = new Int32Array(8);
  const ends = new Int32Array(8);
  let layout: 'header' | 'raw' | null = null;
  let sep = TAB;
  let cSession = 0;
  let cItem = 1;
  let cTime = 2;
  let width = 3;
  let lastSession = -1;
  let lastIndex = -1;
  await scanLines(path, (buf, start, end, lineNo) => {
    if (start === end) return;
    if (layout === null) {
      const first = buf.toString('latin1', start, end);
      if (/sessionid/i.test(first)) {
        layout = 'header';
        sep = first.includes('\t') ? TAB : COMMA;
        const cols = first.split(sep === TAB ? '\t' : ',').map((c) => c.trim().toLowerCase());
        cSession = cols.indexOf('sessionid');
        cItem = cols.indexOf('itemid');
        cTime = cols.indexOf('time');
        width = cols.length;
        if (cSession < 0 || cItem < 0 || cTime < 0) throw lineError(path, buf, start, end, lineNo, 'header must name SessionId, ItemId and Time');
        return;
      }
      layout = 'raw';
      sep = COMMA;
      cSession = 0;
      cTime = 1;
      cItem = 2;
      width = 4;
    }
    const n = splitFields(buf, start, end, starts, ends, sep);
    if (n !== width) throw lineError(path, buf, start, end, lineNo, `expected ${width} fields, got ${n}`);
    const s = parseUint(buf, starts[cSession]!, ends[cSession]!);
    const it = parseUint(buf, starts[cItem]!, ends[cItem]!);
    const text = buf.toString('latin1', starts[cTime]!, ends[cTime]!);
    const ms = layout === 'header' ? Math.round(Number(text) * 1000) : Date.parse(text);
    if (s < 0 || it < 0 || !Number.isFinite(ms)) throw lineError(path, buf, start, end, lineNo, 'bad session, item or time');
    if (s !== lastSession) {
      lastSession = s;
      lastIndex = sessions.get(s);
    }
    group.push(lastIndex);
    item.push(items.get(it));
    ts.push(ms);
  });
  const click = EVENT_TYPE_CODE.click;
  return buildDataset(
    {
      n: group.length,
      group: group.data,
      groupIds: sessions.keys.map(String),
      item: item.data,
      itemKeys: items.keys.map(String),
      type: new Uint8Array(group.length).fill(click),
      ts: ts.data,
    },
    {
      name: options.name ?? nameFromPath(path),
      sortByTime: true,
      minLength: options.minLength ?? 1,
      ...(options.vocabulary ? { vocabulary: options.vocabulary, unknownItems: options.unknownItems ?? 'add' } : {}),
    },
  );
}

/** Training sessions, test sessions and the next-click cases to score. */
export interface SessionSplit {
  train: SequenceDataset;
  /** Test sessions over the training vocabulary (same `itemIds`). */
  test: SequenceDataset;
  /** One case per click after the first of every test session (`user` = test session index). */
  testCases: EvalCase[];
}

/**
 * The GRU4Rec / session-rec train/test convention for session data: train on the training file;
 * in the test file, drop clicks on items never seen in training, then sessions left with fewer
 * than 2 clicks; predict every click of a test session from the clicks before it in that session
 * (no user history). The published evaluation ranks each target against all training items
 * without masking the session's earlier items (repeat clicks are legitimate next items), with
 * Recall@20 and MRR@20: evaluate with `excludeSeen: false`.
 */
export async function loadYoochooseSplit(trainPath: string, testPath: string, options: { name?: string } = {}): Promise<SessionSplit> {
  const name = options.name ?? nameFromPath(trainPath).replace(/_train(_full|_tr)?$/, '');
  const train = await loadYoochoose(trainPath, { name });
  const vocabulary = ItemVocabulary.fromIds(train.itemIds);
  const test = await loadYoochoose(testPath, { name, vocabulary, unknownItems: 'drop', minLength: 2 });
  return { train, test, testCases: sessionCases(test) };
}
