import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { SeqrecError } from '@seqrec/contracts';

/**
 * A dataset file that does not parse. Never retriable: the file has to change. Carries the file and
 * the 1-based line number so the message points at the offending line.
 */
export class DatasetFormatError extends SeqrecError {
  constructor(
    message: string,
    readonly path: string,
    readonly line?: number,
  ) {
    super(line === undefined ? `${path}: ${message}` : `${path}:${line}: ${message}`, { retriable: false, context: { path, line } });
    this.name = 'DatasetFormatError';
  }
}

/**
 * Called once per line with the buffer holding it and the line's byte range `[start, end)` (the
 * newline and a trailing `\r` excluded). The buffer is reused after the call returns: copy out
 * what you keep. `lineNo` is 1-based.
 */
export type LineHandler = (buf: Buffer, start: number, end: number, lineNo: number) => void;

/** True when the file starts with the gzip magic bytes (whatever its name). */
export async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/**
 * Streams a text file (plain or gzip, detected from its first bytes) and calls `onLine` for every
 * line, empty lines included, without building a string per line. Lines are split on `\n`; a
 * final line without a newline is still reported.
 */
export async function scanLines(path: string, onLine: LineHandler): Promise<number> {
  const gz = await isGzip(path);
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  const stream = gz ? file.pipe(createGunzip({ chunkSize: 1 << 20 })) : file;
  if (gz) file.on('error', (e) => stream.destroy(e));
  let carry: Buffer | null = null;
  let lineNo = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let buf = chunk;
    let pos = 0;
    if (carry) {
      const nl = chunk.indexOf(0x0a);
      if (nl < 0) {
        carry = Buffer.concat([carry, chunk]);
        continue;
      }
      buf = Buffer.concat([carry, chunk.subarray(0, nl + 1)]);
      carry = null;
      emit(buf, 0, buf.length - 1, ++lineNo, onLine);
      buf = chunk;
      pos = nl + 1;
    }
    for (;;) {
      const nl = buf.indexOf(0x0a, pos);
      if (nl < 0) break;
      emit(buf, pos, nl, ++lineNo, onLine);
      pos = nl + 1;
    }
    if (pos < buf.length) carry = Buffer.from(buf.subarray(pos));
  }
  if (carry && carry.length > 0) emit(carry, 0, carry.length, ++lineNo, onLine);
  return lineNo;
}

function emit(buf: Buffer, start: number, end: number, lineNo: number, onLine: LineHandler): void {
  onLine(buf, start, end > start && buf[end - 1] === 0x0d ? end - 1 : end, lineNo);
}

/** The first `maxLines` lines of a (possibly gzipped) text file, as strings. */
export async function headLines(path: string, maxLines: number): Promise<string[]> {
  const gz = await isGzip(path);
  const file = createReadStream(path, { highWaterMark: 64 * 1024 });
  const stream = gz ? file.pipe(createGunzip()) : file;
  let text = '';
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      text += chunk.toString('latin1');
      if (text.split('\n').length > maxLines) break;
    }
  } finally {
    file.destroy();
    stream.destroy();
  }
  return text
    .split('\n')
    .slice(0, maxLines)
    .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
    .filter((l, i, all) => l.length > 0 || i < all.length - 1);
}

const SPACE = 0x20;
const TAB = 0x09;
const COMMA = 0x2c;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * Parses the non-negative integers of `buf[start, end)` separated by spaces or tabs into `out`
 * (reused between calls) and returns how many there were. Returns -1 at the first other byte.
 */
export function parseIntTokens(buf: Buffer, start: number, end: number, out: number[]): number {
  let n = 0;
  let value = 0;
  let inNumber = false;
  for (let p = start; p < end; p++) {
    const c = buf[p]!;
    if (c >= ZERO && c <= NINE) {
      value = value * 10 + (c - ZERO);
      inNumber = true;
    } else if (c === SPACE || c === TAB) {
      if (inNumber) {
        out[n++] = value;
        value = 0;
        inNumber = false;
      }
    } else {
      return -1;
    }
  }
  if (inNumber) out[n++] = value;
  return n;
}

/**
 * Splits `buf[start, end)` on `sep` (a single byte, comma by default) and writes the field
 * boundaries into `starts` / `ends`. Returns the field count (at most `starts.length`; extra
 * fields are merged into the last one).
 */
export function splitFields(
  buf: Buffer,
  start: number,
  end: number,
  starts: Int32Array,
  ends: Int32Array,
  sep: number = COMMA,
): number {
  const max = starts.length;
  let n = 0;
  let s = start;
  for (let p = start; p < end && n < max - 1; p++) {
    if (buf[p] === sep) {
      starts[n] = s;
      ends[n++] = p;
      s = p + 1;
    }
  }
  starts[n] = s;
  ends[n++] = end;
  return n;
}

/** The non-negative integer in `buf[start, end)`, or -1 when the field is empty or not all digits. */
export function parseUint(buf: Buffer, start: number, end: number): number {
  if (start >= end) return -1;
  let v = 0;
  for (let p = start; p < end; p++) {
    const c = buf[p]!;
    if (c < ZERO || c > NINE) return -1;
    v = v * 10 + (c - ZERO);
  }
  return v;
}

/** True when `buf[start, end)` equals the ASCII string `s`. */
export function fieldEquals(buf: Buffer, start: number, end: number, s: string): boolean {
  if (end - start !== s.length) return false;
  for (let i = 0; i < s.length; i++) if (buf[start + i] !== s.charCodeAt(i)) return false;
  return true;
}

/** A `DatasetFormatError` quoting the offending line. */
export function lineError(path: string, buf: Buffer, start: number, end: number, lineNo: number, message: string): DatasetFormatError {
  return new DatasetFormatError(`${message}: ${JSON.stringify(buf.toString('latin1', start, Math.min(end, start + 200)))}`, path, lineNo);
}
