/**
 * Structure checks on JSON bytes that `JSON.parse` cannot make: how deep the text nests (checked
 * before parsing, so a hostile input costs one pass over its bytes and nothing recursive ever sees
 * it) and how many object members it holds (compared with the members of the parsed value: a
 * difference means a duplicate key, which `JSON.parse` silently resolves to the last value).
 *
 * One pass, no allocation: colons outside strings are exactly the member separators of valid JSON,
 * brackets outside strings its nesting. Invalid JSON is left for `JSON.parse` to report.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;

/** {@link scanJson}'s answer when the text nests deeper than allowed. */
export const TOO_DEEP = -1;

/**
 * Counts the object members of the JSON text in `buf[start, end)`, or returns {@link TOO_DEEP} as
 * soon as objects and arrays nest deeper than `maxDepth` (the outermost value is depth 1).
 */
export function scanJson(buf: Uint8Array, start: number, end: number, maxDepth: number): number {
  let depth = 0;
  let members = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c === QUOTE) {
      for (i++; i < end; i++) {
        const d = buf[i]!;
        if (d === QUOTE) break;
        if (d === BACKSLASH) i++;
      }
    } else if (c === COLON) {
      members++;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > maxDepth) return TOO_DEEP;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
    }
  }
  return members;
}

export type ArraySplit =
  | { ok: true; elements: Array<[start: number, end: number]> }
  | { ok: false; notAnArray: boolean; detail: string };

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * Splits a JSON array (an HTTP body of events) into the byte ranges of its elements without parsing
 * them, so each element is validated (and rejected) on its own. Fails on a body that is not an array
 * or whose strings and brackets do not balance; an element that is not valid JSON inside balanced
 * brackets is left for its own parse to reject. Any depth: nothing here recurses.
 */
export function splitJsonArray(buf: Uint8Array): ArraySplit {
  const end = buf.length;
  let i = 0;
  while (i < end && isSpace(buf[i]!)) i++;
  if (i === end || buf[i] !== OPEN_ARRAY) {
    return { ok: false, notAnArray: true, detail: i === end ? 'empty body' : `expected a JSON array, found ${describeByte(buf[i]!)} at byte ${i}` };
  }
  const elements: Array<[number, number]> = [];
  const closers: number[] = [];
  let elementStart = -1;
  let lastNonSpace = -1;
  const closeElement = (at: number): string | undefined => {
    if (elementStart < 0) return `empty element before byte ${at}`;
    elements.push([elementStart, lastNonSpace + 1]);
    elementStart = -1;
    return undefined;
  };
  for (i++; i < end; i++) {
    const c = buf[i]!;
    if (isSpace(c)) continue;
    if (closers.length === 0) {
      if (c === CLOSE_ARRAY) {
        if (elementStart >= 0 || elements.length > 0) {
          const err = closeElement(i);
          if (err) return { ok: false, notAnArray: false, detail: err };
        }
        for (i++; i < end; i++) {
          if (!isSpace(buf[i]!)) return { ok: false, notAnArray: false, detail: `unexpected ${describeByte(buf[i]!)} after the array at byte ${i}` };
        }
        return { ok: true, elements };
      }
      if (c === COMMA) {
        const err = closeElement(i);
        if (err) return { ok: false, notAnArray: false, detail: err };
        continue;
      }
      if (elementStart < 0) elementStart = i;
    }
    lastNonSpace = i;
    if (c === QUOTE) {
      for (i++; i < end; i++) {
        const d = buf[i]!;
        if (d === QUOTE) break;
        if (d === BACKSLASH) i++;
      }
      if (i >= end) return { ok: false, notAnArray: false, detail: 'unterminated string' };
      lastNonSpace = i;
    } else if (c === OPEN_OBJECT) {
      closers.push(CLOSE_OBJECT);
    } else if (c === OPEN_ARRAY) {
      closers.push(CLOSE_ARRAY);
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (closers.pop() !== c) return { ok: false, notAnArray: false, detail: `unbalanced ${describeByte(c)} at byte ${i}` };
    }
  }
  return { ok: false, notAnArray: false, detail: 'unterminated array' };
}

function describeByte(c: number): string {
  return c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}

/** Longest JSON pointer a rejection names (keys can be long). */
const MAX_POINTER = 256;

/** A JSON pointer token (RFC 6901). */
export function pointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function pointer(parts: string[]): string {
  const p = parts.map((k) => `/${pointerToken(k)}`).join('');
  return p.length > MAX_POINTER ? `${p.slice(0, MAX_POINTER - 1)}…` : p;
}

/**
 * Where a JSON text breaks the rules {@link scanJson} detects: the JSON pointer of the first
 * duplicate key, or of the top-level member that nests deeper than `maxDepth` (`''`: the whole
 * value). The slow path, for rejects only: it decodes keys.
 */
export function locateJsonProblem(text: string, maxDepth: number): { kind: 'duplicate_key' | 'too_deep'; pointer: string } | undefined {
  interface Frame {
    object: boolean;
    keys: Set<string> | undefined;
    index: number;
    expectKey: boolean;
    path: string[];
  }
  const stack: Frame[] = [];
  let lastKey = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const from = i;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === QUOTE) break;
        if (d === BACKSLASH) i++;
      }
      const top = stack[stack.length - 1];
      if (top?.object && top.expectKey) {
        let key: string;
        try {
          key = JSON.parse(text.slice(from, i + 1)) as string;
        } catch {
          key = text.slice(from + 1, i);
        }
        if (top.keys!.has(key)) return { kind: 'duplicate_key', pointer: pointer([...top.path, key]) };
        top.keys!.add(key);
        lastKey = key;
        top.expectKey = false;
      }
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      const parent = stack[stack.length - 1];
      const path = parent ? [...parent.path, parent.object ? lastKey : String(parent.index)] : [];
      if (stack.length + 1 > maxDepth) return { kind: 'too_deep', pointer: pointer(path.slice(0, 1)) };
      stack.push({ object: c === OPEN_OBJECT, keys: c === OPEN_OBJECT ? new Set() : undefined, index: 0, expectKey: c === OPEN_OBJECT, path });
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      stack.pop();
    } else if (c === COMMA) {
      const top = stack[stack.length - 1];
      if (top?.object) top.expectKey = true;
      else if (top) top.index++;
    }
  }
  return undefined;
}
