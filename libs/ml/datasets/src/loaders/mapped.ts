import { EVENT_TYPE_CODE, EVENT_TYPES, parseTimestamp, type EventType } from '@seqrec/contracts';
import { DatasetFormatError, lineError, scanLines } from '../io';
import type { SequenceDataset } from '../types';
import { nameFromPath } from '../vocabulary';
import { buildDataset } from './build';
import { Float64Column, Int32Column, Uint8Column } from './columns';

/** Layouts a column mapping reads. */
export const TABLE_FORMATS = ['csv', 'tsv', 'jsonl'] as const;
export type TableFormat = (typeof TABLE_FORMATS)[number];

/**
 * How the time column is written:
 * - `epoch-s`: Unix seconds, fractions allowed (`1396437466.94`);
 * - `epoch-ms`: Unix milliseconds;
 * - `iso`: the ingester's rule ({@link parseTimestamp}): ISO-8601, a space may stand for the `T`,
 *   without a zone the time is UTC — so `YYYY-MM-DD HH:MM:SS` is read as UTC;
 * - `auto`: `iso` for text; for numbers, seconds or milliseconds decided once from the first row
 *   (below 10^11, about year 5138 in seconds, means seconds) and then held for the whole file.
 */
export const TIME_FORMATS = ['auto', 'epoch-s', 'epoch-ms', 'iso'] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];

/** A column: its header name, or its 0-based position (a number, or digits when the file has no header). JSON lines: a key, dotted for nested objects (`context.category`). */
export type ColumnRef = string | number;

/**
 * Maps a shop's own event export onto the dataset shape: which column holds what. Exactly the
 * subject columns given decide the sequences: `user` (one sequence per user), `session` (one per
 * session, for exports without user ids), or both with `groupBy`.
 */
export interface ColumnMapping {
  /** Layout; default from the file name (`.csv`, `.tsv`/`.tab`, `.jsonl`/`.ndjson`, `.gz` ignored). */
  format?: TableFormat;
  /** CSV/TSV: the first line names the columns. Default: true unless every column is given by position. */
  header?: boolean;
  /** CSV/TSV: one-character field separator (default `,` for csv, tab for tsv). */
  delimiter?: string;
  user?: ColumnRef;
  session?: ColumnRef;
  item: ColumnRef;
  /** Without a time column rows keep their file order. */
  time?: ColumnRef;
  timeFormat?: TimeFormat;
  /** The event type column; without it every event is `defaultType`. */
  type?: ColumnRef;
  /**
   * Raw type value → event type; `null` drops the row. Values not listed are kept when they are
   * event type names (`view`, `click`, ...) and are an error otherwise.
   */
  types?: Readonly<Record<string, EventType | null>>;
  /** Default `click`. */
  defaultType?: EventType;
  /** The item's category (the first value seen for an item is kept, in `itemCategories`). */
  category?: ColumnRef;
  /** With both `user` and `session`: one sequence per user (default) or per session. */
  groupBy?: 'user' | 'session';
}

export interface MappedLoadOptions {
  name?: string;
  /** Drop an event repeating the previous kept event of its sequence (same item and type). Default false. */
  collapseRepeats?: boolean;
  /** Sequences with fewer events are dropped. Default 1. */
  minLength?: number;
  /** Items with fewer events are dropped (iterated with `minLength`). Default 1. */
  minItemCount?: number;
}

/** A dataset read through a column mapping, with each item's category when the mapping names one. */
export interface MappedDataset extends SequenceDataset {
  /** Category of each item index (`[0]` is ''), '' when unknown. */
  itemCategories?: string[];
}

/** The format a mapping reads `path` with: its own, else from the file name. */
export function tableFormatOf(path: string, mapping: Pick<ColumnMapping, 'format'>): TableFormat {
  if (mapping.format) return mapping.format;
  const name = path.toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.csv')) return 'csv';
  if (name.endsWith('.tsv') || name.endsWith('.tab')) return 'tsv';
  if (name.endsWith('.jsonl') || name.endsWith('.ndjson')) return 'jsonl';
  throw new DatasetFormatError('cannot tell csv, tsv or jsonl from the file name: give the mapping a format', path);
}

type Field = 'user' | 'session' | 'item' | 'time' | 'type' | 'category';
const FIELDS: readonly Field[] = ['user', 'session', 'item', 'time', 'type', 'category'];
const SECONDS_BELOW = 1e11;
const TYPE_NAMES = new Set<string>(EVENT_TYPES);

/**
 * Checks a mapping before any byte is read; every problem at once. Returns the problems ([] when
 * the mapping is usable).
 */
export function mappingProblems(m: ColumnMapping): string[] {
  const problems: string[] = [];
  if (m.item === undefined) problems.push('item: required');
  if (m.user === undefined && m.session === undefined) problems.push('user or session: at least one is required (the sequence key)');
  if (m.groupBy === 'session' && m.session === undefined) problems.push('groupBy session needs a session column');
  if (m.format !== undefined && !(TABLE_FORMATS as readonly string[]).includes(m.format)) problems.push(`format: expected ${TABLE_FORMATS.join('|')}, got ${JSON.stringify(m.format)}`);
  if (m.timeFormat !== undefined && !(TIME_FORMATS as readonly string[]).includes(m.timeFormat)) problems.push(`timeFormat: expected ${TIME_FORMATS.join('|')}, got ${JSON.stringify(m.timeFormat)}`);
  if (m.delimiter !== undefined && m.delimiter.length !== 1) problems.push(`delimiter: expected one character, got ${JSON.stringify(m.delimiter)}`);
  if (m.defaultType !== undefined && !TYPE_NAMES.has(m.defaultType)) problems.push(`defaultType: expected one of ${EVENT_TYPES.join('|')}, got ${JSON.stringify(m.defaultType)}`);
  for (const [raw, t] of Object.entries(m.types ?? {})) {
    if (t !== null && !TYPE_NAMES.has(t)) problems.push(`types.${raw}: expected one of ${EVENT_TYPES.join('|')} or null, got ${JSON.stringify(t)}`);
  }
  for (const f of FIELDS) {
    const ref = m[f];
    if (typeof ref === 'number' && !(Number.isInteger(ref) && ref >= 0)) problems.push(`${f}: a column position must be an integer >= 0, got ${ref}`);
    if (typeof ref === 'string' && ref.length === 0) problems.push(`${f}: empty column name`);
  }
  return problems;
}

/**
 * Loads any CSV, TSV or JSON-lines event export (plain or gzip) through a {@link ColumnMapping}:
 * the generic loader for a shop's own data. Sequences are sorted by time (stable: rows with the
 * same time keep file order), item ids are numbered 1..N in order of first appearance in the
 * output. A row whose subject or item is empty, whose time does not parse, or whose type is not
 * mapped is an error naming its line; rows mapped to a `null` type are skipped.
 *
 * CSV fields may be quoted (RFC 4180: `"a, b"`, `""` for a quote); a quoted field cannot span lines.
 */
export async function loadMapped(path: string, mapping: ColumnMapping, options: MappedLoadOptions = {}): Promise<MappedDataset> {
  const problems = mappingProblems(mapping);
  if (problems.length > 0) throw new DatasetFormatError(`bad column mapping: ${problems.join('; ')}`, path);
  const format = tableFormatOf(path, mapping);
  const groupField: Field = mapping.user !== undefined && mapping.groupBy !== 'session' ? 'user' : 'session';
  const defaultType = EVENT_TYPE_CODE[mapping.defaultType ?? 'click'];
  const typeCode = new Map<string, number>();
  for (const t of EVENT_TYPES) typeCode.set(t, EVENT_TYPE_CODE[t]);
  for (const [raw, t] of Object.entries(mapping.types ?? {})) typeCode.set(raw, t === null ? -1 : EVENT_TYPE_CODE[t]);
  const timeFormat = mapping.timeFormat ?? 'auto';
  let numericUnit: 1 | 1000 | 0 = timeFormat === 'epoch-s' ? 1000 : timeFormat === 'epoch-ms' ? 1 : 0;

  const groupIndex = new Map<string, number>();
  const groupIds: string[] = [];
  const itemIndex = new Map<string, number>();
  const itemKeys: string[] = [];
  const categoryOf: string[] = [];
  const group = new Int32Column(1 << 16);
  const item = new Int32Column(1 << 16);
  const type = new Uint8Column(1 << 16);
  const ts = new Float64Column(1 << 16);

  const reader = format === 'jsonl' ? jsonReader(mapping) : tableReader(mapping, format);
  await scanLines(path, (buf, start, end, lineNo) => {
    if (start === end) return;
    const line = buf.toString('utf8', start, end);
    const fail = (message: string): never => {
      throw lineError(path, buf, start, end, lineNo, message);
    };
    const row = reader(line, fail);
    if (row === null) return; // the header
    const subject = row.get(groupField);
    if (subject === undefined || subject === '') fail(`empty ${groupField} id`);
    const it = row.get('item');
    if (it === undefined || it === '') fail('empty item id');
    let code = defaultType;
    if (mapping.type !== undefined) {
      const raw = row.get('type') ?? '';
      const c = typeCode.get(raw);
      if (c === undefined) fail(`type ${JSON.stringify(raw)} is not an event type and not in the mapping's types`);
      if (c! < 0) return;
      code = c!;
    }
    let ms = 0;
    if (mapping.time !== undefined) {
      const raw = row.get('time') ?? '';
      const t = parseTime(raw, timeFormat, numericUnit);
      if (t === undefined) {
        const fixed = numericUnit === 1000 ? ' (this file: epoch seconds)' : numericUnit === 1 ? ' (this file: epoch milliseconds)' : '';
        fail(`time ${JSON.stringify(raw)} is not ${timeFormat === 'auto' ? 'epoch seconds, milliseconds or ISO-8601' : timeFormat}${timeFormat === 'auto' ? fixed : ''}`);
      }
      if (numericUnit === 0 && /^\d+(\.\d+)?$/.test(raw)) numericUnit = Number(raw) < SECONDS_BELOW ? 1000 : 1;
      ms = t!;
    }
    let g = groupIndex.get(subject!);
    if (g === undefined) {
      g = groupIds.length;
      groupIndex.set(subject!, g);
      groupIds.push(subject!);
    }
    let i = itemIndex.get(it!);
    if (i === undefined) {
      i = itemKeys.length;
      itemIndex.set(it!, i);
      itemKeys.push(it!);
      categoryOf.push(row.get('category') ?? '');
    }
    group.push(g);
    item.push(i);
    type.push(code);
    ts.push(ms);
  });
  const ds: MappedDataset = buildDataset(
    { n: group.length, group: group.data, groupIds, item: item.data, itemKeys, type: type.data, ...(mapping.time !== undefined ? { ts: ts.data } : {}) },
    {
      name: options.name ?? nameFromPath(path),
      sortByTime: mapping.time !== undefined,
      collapseRepeats: options.collapseRepeats ?? false,
      minLength: options.minLength ?? 1,
      minItemCount: options.minItemCount ?? 1,
    },
  );
  if (mapping.category !== undefined) {
    const byId = new Map<string, string>();
    for (let k = 0; k < itemKeys.length; k++) byId.set(itemKeys[k]!, categoryOf[k]!);
    ds.itemCategories = ds.itemIds.map((id) => (id === '' ? '' : (byId.get(id) ?? '')));
  }
  return ds;
}

/** Epoch ms of a time field, or undefined. `unit` is the numeric unit fixed so far (0: not yet). */
function parseTime(raw: string, format: TimeFormat, unit: 1 | 1000 | 0): number | undefined {
  const numeric = /^\d+(\.\d+)?$/.test(raw);
  if (format === 'iso') return numeric ? undefined : parseTimestamp(raw);
  if (!numeric) return format === 'auto' ? parseTimestamp(raw) : undefined;
  const n = Number(raw);
  const seconds = n < SECONDS_BELOW;
  // auto: the unit of the first row holds; a row that disagrees is an error, not a silent 1000x
  if (format === 'auto' && unit !== 0 && seconds !== (unit === 1000)) return undefined;
  const u = unit !== 0 ? unit : seconds ? 1000 : 1;
  if (u === 1 && !Number.isInteger(n)) return undefined;
  const ms = Math.round(n * u);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

type Row = Map<Field, string>;
type RowReader = (line: string, fail: (message: string) => never) => Row | null;

/** CSV/TSV rows: resolves named columns from the header line, then reads each row's mapped fields. */
function tableReader(m: ColumnMapping, format: 'csv' | 'tsv'): RowReader {
  const sep = m.delimiter ?? (format === 'tsv' ? '\t' : ',');
  const refs = FIELDS.filter((f) => m[f] !== undefined).map((f) => [f, m[f]!] as const);
  const hasHeader = m.header ?? refs.some(([, r]) => typeof r === 'string' && !/^\d+$/.test(r));
  let positions: Array<readonly [Field, number]> | null = hasHeader ? null : refs.map(([f, r]) => [f, Number(r)] as const);
  return (line, fail) => {
    const cells = splitDelimited(line, sep, fail);
    if (positions === null) {
      const names = cells.map((c) => c.trim());
      positions = refs.map(([f, r]) => {
        const p = typeof r === 'number' ? r : names.indexOf(r);
        if (p < 0) fail(`the header has no column ${JSON.stringify(r)} (for ${f}); it has ${names.map((n) => JSON.stringify(n)).join(', ')}`);
        return [f, p] as const;
      });
      return null;
    }
    const row: Row = new Map();
    for (const [f, p] of positions) {
      if (p >= cells.length) fail(`expected at least ${p + 1} fields, got ${cells.length}`);
      row.set(f, cells[p]!.trim());
    }
    return row;
  };
}

/** One line's fields; RFC 4180 quoting within the line. */
export function splitDelimited(line: string, sep: string, fail: (message: string) => never): string[] {
  if (!line.includes('"')) return line.split(sep);
  const out: string[] = [];
  let p = 0;
  for (;;) {
    if (line[p] === '"') {
      let value = '';
      let q = p + 1;
      for (;;) {
        const close = line.indexOf('"', q);
        if (close < 0) fail('a quoted field is not closed on its line');
        value += line.slice(q, close);
        if (line[close + 1] === '"') {
          value += '"';
          q = close + 2;
          continue;
        }
        p = close + 1;
        break;
      }
      out.push(value);
      if (p === line.length) return out;
      if (line[p] !== sep) fail(`unexpected ${JSON.stringify(line[p])} after a quoted field`);
      p++;
    } else {
      const next = line.indexOf(sep, p);
      if (next < 0) {
        out.push(line.slice(p));
        return out;
      }
      out.push(line.slice(p, next));
      p = next + 1;
    }
  }
}

/** JSON lines: each line one object; a mapped key may be dotted into nested objects. */
function jsonReader(m: ColumnMapping): RowReader {
  const refs = FIELDS.filter((f) => m[f] !== undefined).map((f) => [f, String(m[f]!).split('.')] as const);
  return (line, fail) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      fail(`not JSON (${(e as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('expected a JSON object per line');
    const row: Row = new Map();
    for (const [f, path] of refs) {
      let v: unknown = value;
      for (const k of path) v = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined;
      if (v === undefined || v === null) continue;
      if (typeof v === 'string') row.set(f, v.trim());
      else if (typeof v === 'number' && Number.isFinite(v)) row.set(f, String(v));
      else fail(`${path.join('.')} (for ${f}): expected a string or a number, got ${JSON.stringify(v).slice(0, 60)}`);
    }
    return row;
  };
}
