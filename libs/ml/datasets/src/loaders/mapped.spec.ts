import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { EVENT_TYPE_CODE, EVENT_TYPES } from '@seqrec/contracts';
import { DatasetFormatError } from '../io';
import { datasetPath } from '../registry';
import type { SequenceDataset } from '../types';
import { assertValidDataset } from '../vocabulary';
import { loadDataset } from './load';
import { loadMapped, mappingProblems, splitDelimited, tableFormatOf } from './mapped';
import { loadTaobao } from './taobao';
import { loadYoochoose } from './yoochoose';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'seqrec-mapped-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, name.endsWith('.gz') ? gzipSync(text) : text);
  return path;
}
const arr = (a: ArrayLike<number>): number[] => Array.from(a);
const { view, click, add_to_cart: cart, purchase } = EVENT_TYPE_CODE;
const never = (m: string): never => {
  throw new Error(m);
};

/** The same dataset, field by field (typed arrays compared as arrays). */
function assertSameDataset(actual: SequenceDataset, expected: SequenceDataset): void {
  assert.equal(actual.numItems, expected.numItems);
  assert.deepEqual(actual.itemIds, expected.itemIds);
  assert.deepEqual(actual.users, expected.users);
  assert.deepEqual(actual.sequences.map(arr), expected.sequences.map(arr));
  assert.deepEqual(actual.types?.map(arr), expected.types?.map(arr));
  assert.deepEqual(actual.timestamps?.map(arr), expected.timestamps?.map(arr));
}

describe(loadMapped.name, () => {
  it('reads a CSV export by header names, sorts by time and maps raw types', async () => {
    const path = write(
      'shop.csv',
      ['customer,sku,when,what,cat', 'c2,B,2026-01-01 10:00:02,pdp,shoes', 'c1,A,2026-01-01T10:00:00Z,pdp,hats', 'c1,B,2026-01-01T09:59:59Z,basket,shoes', 'c2,C,2026-01-01 10:00:01,order,bags', 'c1,A,2026-01-01T11:00:00+01:00,noise,hats'].join('\n'),
    );
    const ds = await loadMapped(path, { user: 'customer', item: 'sku', time: 'when', type: 'what', category: 'cat', types: { pdp: 'view', basket: 'add_to_cart', order: 'purchase', noise: null } });
    assert.equal(ds.name, 'shop');
    assert.deepEqual(ds.users, ['c2', 'c1']);
    // c2: C at :01 before B at :02 (zone-less times are UTC); c1: B at 09:59:59, then A at 10:00:00; the noise row is dropped
    assert.deepEqual(ds.itemIds, ['', 'C', 'B', 'A']);
    assert.deepEqual(ds.sequences.map(arr), [[1, 2], [2, 3]]);
    assert.deepEqual(ds.types!.map(arr), [[purchase, view], [cart, view]]);
    assert.deepEqual(ds.timestamps!.map(arr), [
      [Date.UTC(2026, 0, 1, 10, 0, 1), Date.UTC(2026, 0, 1, 10, 0, 2)],
      [Date.UTC(2026, 0, 1, 9, 59, 59), Date.UTC(2026, 0, 1, 10, 0, 0)],
    ]);
    assert.deepEqual(ds.itemCategories, ['', 'bags', 'shoes', 'hats']);
    assertValidDataset(ds);
  });

  it('reads quoted CSV fields, positions without a header, gzip, epoch milliseconds', async () => {
    const path = write('export.csv.gz', ['"u,1",10,1700000000123,"say ""hi"""', '"u,1",11,1700000000000,x', 'u2,10,1700000000500,y'].join('\r\n'));
    const ds = await loadMapped(path, { user: 0, item: 1, time: 2 });
    assert.deepEqual(ds.users, ['u,1', 'u2']);
    assert.deepEqual(ds.itemIds, ['', '11', '10']);
    assert.deepEqual(ds.sequences.map(arr), [[1, 2], [2]]);
    assert.deepEqual(ds.timestamps!.map(arr), [[1700000000000, 1700000000123], [1700000000500]]);
    assert.deepEqual(ds.types!.map(arr), [[click, click], [click]]);
  });

  it('groups a session export without user ids by session, epoch seconds with fractions', async () => {
    const path = write('sessions.tsv', 'SessionId\tItemId\tTime\n7\t100\t1396437466.94\n7\t200\t1396437400.5\n9\t100\t1396437500\n');
    const ds = await loadMapped(path, { session: 'SessionId', item: 'ItemId', time: 'Time', timeFormat: 'epoch-s' });
    assert.deepEqual(ds.users, ['7', '9']);
    assert.deepEqual(ds.sequences.map(arr), [[1, 2], [2]]);
    assert.deepEqual(ds.timestamps!.map(arr), [[1396437400500, 1396437466940], [1396437500000]]);
  });

  it('uses the session as the key when asked, though a user id is there', async () => {
    const path = write('both.csv', 'u,s,i\nu1,s1,a\nu1,s2,b\nu1,s1,c\n');
    const byUser = await loadMapped(path, { user: 'u', session: 's', item: 'i' });
    assert.deepEqual(byUser.sequences.map(arr), [[1, 2, 3]]);
    const bySession = await loadMapped(path, { user: 'u', session: 's', item: 'i', groupBy: 'session' });
    assert.deepEqual(bySession.users, ['s1', 's2']);
    assert.deepEqual(bySession.sequences.map(arr), [[1, 2], [3]]);
    assert.deepEqual(bySession.itemIds, ["", "a", "c", "b"]);
  });

  it('reads JSON lines with nested keys, numbers as ids, and ISO times with zones', async () => {
    const path = write(
      'events.jsonl',
      [
        JSON.stringify({ user: { id: 42 }, item: 'x', at: '2026-03-01T12:00:00+02:00', context: { category: 'toys' } }),
        JSON.stringify({ user: { id: 42 }, item: 'y', at: '2026-03-01T09:00:00Z' }),
        '',
        JSON.stringify({ user: { id: 7 }, item: 'x', at: '2026-03-01T00:00:00Z' }),
      ].join('\n'),
    );
    const ds = await loadMapped(path, { user: 'user.id', item: 'item', time: 'at', category: 'context.category' });
    assert.deepEqual(ds.users, ['42', '7']);
    // 12:00+02:00 is 10:00Z, after y at 09:00Z
    assert.deepEqual(ds.itemIds, ['', 'y', 'x']);
    assert.deepEqual(ds.sequences.map(arr), [[1, 2], [2]]);
    assert.deepEqual(ds.itemCategories, ['', '', 'toys']);
  });

  it('names the line and the reason of every bad row', async () => {
    const cases: Array<[string, string, Parameters<typeof loadMapped>[1], RegExp]> = [
      ['a.csv', 'u,i,t\nu1,a,1700000000\nu1,,1700000001\n', { user: 'u', item: 'i', time: 't' }, /a\.csv:3: empty item id/],
      ['b.csv', 'u,i,t\nu1,a,yesterday\n', { user: 'u', item: 'i', time: 't' }, /b\.csv:2: time "yesterday" is not epoch seconds, milliseconds or ISO-8601/],
      // the first row fixes seconds; a millisecond value later is refused rather than read 1000x off
      ['c.csv', 'u,i,t\nu1,a,1700000000\nu1,b,1700000000000\n', { user: 'u', item: 'i', time: 't' }, /c\.csv:3: .*this file: epoch seconds/],
      ['d.csv', 'u,i,t\nu1,a,2026-02-30T00:00:00Z\n', { user: 'u', item: 'i', time: 't', timeFormat: 'iso' }, /d\.csv:2: time "2026-02-30T00:00:00Z" is not iso/],
      ['e.csv', 'u,i,k\nu1,a,wishlist\n', { user: 'u', item: 'i', type: 'k' }, /e\.csv:2: type "wishlist" is not an event type/],
      ['f.csv', 'u,i\nu1,a\n', { user: 'user', item: 'i' }, /f\.csv:1: the header has no column "user" \(for user\)/],
      ['g.csv', '0,1\n0\n', { user: 0, item: 1 }, /g\.csv:2: expected at least 2 fields, got 1/],
      ['h.csv', 'u,i\n"u1,a\n', { user: 'u', item: 'i' }, /h\.csv:2: a quoted field is not closed/],
      ['i.jsonl', '{"u":"a","i":"b"}\n[1]\n', { user: 'u', item: 'i' }, /i\.jsonl:2: expected a JSON object per line/],
      ['j.jsonl', '{"u":"a","i":{"x":1}}\n', { user: 'u', item: 'i' }, /j\.jsonl:1: i \(for item\): expected a string or a number/],
      ['k.jsonl', '{"u":"a",\n', { user: 'u', item: 'i' }, /k\.jsonl:1: not JSON/],
      ['l.jsonl', '{"i":"b"}\n', { user: 'u', item: 'i' }, /l\.jsonl:1: empty user id/],
    ];
    for (const [name, text, mapping, re] of cases) {
      await assert.rejects(loadMapped(write(name, text), mapping), (e: unknown) => e instanceof DatasetFormatError && re.test(e.message), `${name}: ${re}`);
    }
  });

  it('refuses an unusable mapping before reading, with every problem', async () => {
    assert.deepEqual(mappingProblems({ item: 'i' }), ['user or session: at least one is required (the sequence key)']);
    assert.deepEqual(mappingProblems({ user: -1, item: '', delimiter: ';;', types: { x: 'like' as never }, groupBy: 'session' }), [
      'groupBy session needs a session column',
      'delimiter: expected one character, got ";;"',
      `types.x: expected one of ${EVENT_TYPES.join('|')} or null, got "like"`,
      'user: a column position must be an integer >= 0, got -1',
      'item: empty column name',
    ]);
    await assert.rejects(loadMapped(write('m.csv', 'i\na\n'), { item: 'i' }), /bad column mapping: user or session/);
    assert.throws(() => tableFormatOf('/x/export.txt', {}), /give the mapping a format/);
    assert.equal(tableFormatOf('/x/export.TSV.gz', {}), 'tsv');
    assert.equal(tableFormatOf('/x/export.ndjson', {}), 'jsonl');
  });

  it('splits quoted fields as RFC 4180 does', () => {
    assert.deepEqual(splitDelimited('a,"b,c","d""e",,"",f', ',', never), ['a', 'b,c', 'd"e', '', '', 'f']);
    assert.deepEqual(splitDelimited('"x"', ',', never), ['x']);
    assert.throws(() => splitDelimited('"x"y,z', ',', never), /unexpected "y" after a quoted field/);
  });

  it('is reached through loadDataset with format csv|tsv|jsonl and a mapping, never without one', async () => {
    const path = write('via.csv', 'u,i\nu1,a\nu1,b\n');
    const ds = await loadDataset(path, 'csv', { columns: { user: 'u', item: 'i' } });
    assert.deepEqual(ds.sequences.map(arr), [[1, 2]]);
    await assert.rejects(loadDataset(path, 'csv'), /format csv needs a column mapping/);
  });
});

describe('the generic loader on the real files, by mapping alone', () => {
  it('reads Taobao UserBehavior exactly as the dedicated loader does', async () => {
    const path = datasetPath('taobao');
    const expected = await loadTaobao(path);
    const actual = await loadMapped(path, {
      format: 'csv',
      user: 0,
      item: 1,
      category: 2,
      type: 3,
      time: 4,
      timeFormat: 'epoch-s',
      types: { pv: 'click', cart: 'add_to_cart', fav: 'add_to_cart', buy: 'purchase' },
    });
    assertSameDataset(actual, expected);
    // the counts of its SOURCE.md
    assert.equal(actual.users.length, 814);
    assert.equal(actual.numItems, 55233);
    assert.equal(actual.sequences.reduce((n, s) => n + s.length, 0), 84287);
    assert.equal(new Set(actual.itemCategories!.slice(1)).size, 2911);
  });

  it('reads the Yoochoose session file exactly as the dedicated loader does', async () => {
    const path = datasetPath('yoochoose');
    const expected = await loadYoochoose(path);
    const actual = await loadMapped(path, { format: 'tsv', session: 'SessionId', item: 'ItemId', time: 'Time' });
    assertSameDataset(actual, expected);
    assert.equal(actual.users.length, 17794);
    assert.equal(actual.numItems, 2933);
  });
});
