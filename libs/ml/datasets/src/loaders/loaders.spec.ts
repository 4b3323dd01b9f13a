import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { EVENT_TYPE_CODE, type EventV1 } from '@seqrec/contracts';
import { DatasetFormatError, scanLines } from '../io';
import { assertValidDataset, datasetStats, ItemVocabulary } from '../vocabulary';
import { fromEvents } from './events';
import { loadS3Rec, loadSasRec } from './int-sequences';
import { detectFormat, loadDataset } from './load';
import { loadTaobao } from './taobao';
import { loadYoochoose, loadYoochooseSplit } from './yoochoose';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'seqrec-datasets-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string, gzip = name.endsWith('.gz')): string {
  const path = join(dir, name);
  writeFileSync(path, gzip ? gzipSync(text) : text);
  return path;
}

const arr = (a: ArrayLike<number>): number[] => Array.from(a);
const { click, add_to_cart: cart, purchase } = EVENT_TYPE_CODE;

describe(scanLines.name, () => {
  it('reports every line across chunk boundaries, with CRLF and a missing final newline', async () => {
    const lines = Array.from({ length: 150_000 }, (_, i) => `${i} ${'x'.repeat(i % 17)}`);
    const path = write('big.txt.gz', `${lines.join('\r\n')}`);
    const seen: string[] = [];
    const n = await scanLines(path, (buf, s, e) => seen.push(buf.toString('latin1', s, e)));
    assert.equal(n, lines.length);
    assert.deepEqual(seen, lines);
  });
});

describe(loadSasRec.name, () => {
  it('reads "user item" lines, gzipped, keeping item ids and grouping users', async () => {
    const path = write('ml-tiny.txt.gz', '1 1\n1 2\n2 3\n\n1 5\n');
    const sut = await loadSasRec(path);
    assert.equal(sut.name, 'ml-tiny');
    assert.deepEqual(sut.users, ['1', '2']);
    assert.deepEqual(sut.sequences.map(arr), [[1, 2, 5], [3]]);
    assert.equal(sut.numItems, 5);
    assert.deepEqual(sut.itemIds, ['', '1', '2', '3', '4', '5']);
    assert.equal(sut.types, undefined);
    assertValidDataset(sut);
  });

  it('names the line of a malformed row', async () => {
    const path = write('bad.txt', '1 1\n1 x\n');
    await assert.rejects(loadSasRec(path), (e: unknown) => e instanceof DatasetFormatError && e.line === 2 && /bad\.txt:2/.test(e.message));
    await assert.rejects(loadSasRec(write('zero.txt', '1 0\n')), /padding/);
  });
});

describe(loadS3Rec.name, () => {
  it('reads one user per line', async () => {
    const path = write('Beauty.txt', '1 1 2 3\n2 4 2\n3 5\n');
    const sut = await loadS3Rec(path, { name: 'beauty' });
    assert.equal(sut.name, 'beauty');
    assert.deepEqual(sut.sequences.map(arr), [[1, 2, 3], [4, 2], [5]]);
    assert.equal(sut.numItems, 5);
    assert.deepEqual(datasetStats(sut), { name: 'beauty', users: 3, items: 5, itemsSeen: 5, interactions: 6, minLength: 1, maxLength: 3, meanLength: 2 });
  });

  it('rejects a user without items', async () => {
    await assert.rejects(loadS3Rec(write('s3bad.txt', '1 1 2\n2\n')), DatasetFormatError);
  });
});

describe(loadTaobao.name, () => {
  const csv = [
    '7,100,1,pv,1511600000',
    '7,200,1,cart,1511500000', // earlier than the line above
    '7,100,1,buy,1511600000', // same second as the first line: keeps file order
    '7,300,2,fav,1511700000',
    '9,200,1,pv,1511550000',
    '9,400,3,pv,1511560000',
    '5,500,3,pv,1511560000', // user 5: a single event on a single-use item
  ].join('\n');

  it('sorts each user by time (stable), maps behaviours to event types and densifies items', async () => {
    const sut = await loadTaobao(write('UserBehavior.csv.gz', csv));
    assert.deepEqual(sut.users, ['7', '9', '5']);
    assert.deepEqual(sut.itemIds, ['', '200', '100', '300', '400', '500']);
    assert.deepEqual(sut.sequences.map(arr), [[1, 2, 2, 3], [1, 4], [5]]);
    assert.deepEqual(sut.types!.map(arr), [[cart, click, purchase, cart], [click, click], [click]]);
    assert.deepEqual(arr(sut.timestamps![0]!), [1511500000000, 1511600000000, 1511600000000, 1511700000000]);
    assertValidDataset(sut);
  });

  it('keeps only the asked behaviours and applies the min-length / item-count filter', async () => {
    const path = write('ub.csv', csv);
    const buys = await loadTaobao(path, { behaviors: ['buy', 'cart'] });
    assert.deepEqual(buys.users, ['7']);
    assert.deepEqual(buys.types!.map(arr), [[cart, purchase]]);
    // 2-core: item 100 (2 events, both user 7), item 200 (users 7 and 9); 300/400/500 drop,
    // then user 9 (one event left) and user 5 drop, then item 200 has one event and drops.
    const core = await loadTaobao(path, { minUserLength: 2, minItemCount: 2 });
    assert.deepEqual(core.users, ['7']);
    assert.deepEqual(core.itemIds, ['', '100']);
    assert.deepEqual(core.sequences.map(arr), [[1, 1]]);
    const late = await loadTaobao(path, { behaviors: ['pv'], timeRange: { from: 1511555000000 } });
    assert.deepEqual(late.users, ['7', '9', '5']);
    assert.deepEqual(late.sequences.map((s) => s.length), [1, 1, 1]);
  });

  it('collapses immediate repeats of the same item and behaviour when asked', async () => {
    const path = write('ub4.csv', '1,10,1,pv,100\n1,10,1,pv,101\n1,10,1,cart,102\n1,11,1,pv,103\n1,10,1,pv,104\n');
    const sut = await loadTaobao(path, { collapseRepeats: true });
    assert.deepEqual(sut.sequences.map(arr), [[1, 1, 2, 1]]);
    assert.deepEqual(sut.types!.map(arr), [[click, cart, click, click]]);
  });

  it('allows overriding the behaviour mapping', async () => {
    const sut = await loadTaobao(write('ub2.csv', csv), { behaviorTypes: { fav: 'click' } });
    assert.equal(sut.types![0]![3], click);
  });

  it('rejects an unknown behaviour', async () => {
    await assert.rejects(loadTaobao(write('ub3.csv', '1,2,3,like,1511500000\n')), /unknown behaviour/);
  });
});

describe(loadYoochoose.name, () => {
  it('reads the session-rec layout, sorting clicks by time inside each session', async () => {
    const path = write('rsc_train_full.txt', 'SessionId\tItemId\tTime\n1\t214\t1396860669.5\n1\t215\t1396860600.25\n2\t214\t1396860700\n');
    const sut = await loadYoochoose(path);
    assert.deepEqual(sut.users, ['1', '2']);
    assert.deepEqual(sut.itemIds, ['', '215', '214']);
    assert.deepEqual(sut.sequences.map(arr), [[1, 2], [2]]);
    assert.deepEqual(arr(sut.timestamps![0]!), [1396860600250, 1396860669500]);
    assert.deepEqual(arr(sut.types![0]!), [click, click]);
  });

  it('reads the raw challenge layout with ISO timestamps', async () => {
    const path = write('yoochoose-clicks.dat', '1,2014-04-07T10:54:09.868Z,214536500,0\n1,2014-04-07T10:51:09.277Z,214536502,0\n');
    const sut = await loadYoochoose(path);
    assert.deepEqual(sut.itemIds, ['', '214536502', '214536500']);
    assert.deepEqual(arr(sut.timestamps![0]!), [Date.parse('2014-04-07T10:51:09.277Z'), Date.parse('2014-04-07T10:54:09.868Z')]);
  });
});

describe(loadYoochooseSplit.name, () => {
  it('follows the GRU4Rec convention: unknown test items dropped, then sessions shorter than 2', async () => {
    const train = write('s_train_full.txt.gz', 'SessionId\tItemId\tTime\n1\t10\t1\n1\t11\t2\n2\t12\t3\n2\t10\t4\n');
    const test = write('s_test.txt.gz', 'SessionId\tItemId\tTime\n5\t10\t10\n5\t99\t11\n5\t12\t12\n6\t10\t13\n6\t98\t14\n7\t11\t15\n7\t11\t16\n');
    const sut = await loadYoochooseSplit(train, test);
    assert.equal(sut.train.name, 's');
    assert.deepEqual(sut.test.itemIds, sut.train.itemIds);
    assert.deepEqual(sut.test.users, ['5', '7']); // session 6 keeps one click
    assert.deepEqual(sut.test.sequences.map(arr), [
      [1, 3],
      [2, 2],
    ]);
    assert.deepEqual(
      sut.testCases.map((c) => [c.user, arr(c.history), c.target]),
      [
        [0, [1], 3],
        [1, [2], 2],
      ],
    );
  });
});

describe(detectFormat.name, () => {
  it('recognises each layout', async () => {
    assert.equal(await detectFormat(write('a.txt.gz', '1 1\n1 2\n2 3\n')), 'sasrec');
    assert.equal(await detectFormat(write('b.txt', '1 1 2\n2 3\n')), 's3rec');
    assert.equal(await detectFormat(write('c.csv', '1,2,3,pv,1511500000\n')), 'taobao');
    assert.equal(await detectFormat(write('d.txt', 'SessionId\tItemId\tTime\n1\t2\t3.5\n')), 'yoochoose');
    assert.equal(await detectFormat(write('e.dat', '1,2014-04-07T10:51:09.277Z,214536502,0\n')), 'yoochoose');
    await assert.rejects(detectFormat(write('f.txt', 'hello world\n')), DatasetFormatError);
  });

  it('lets loadDataset dispatch on the detected format', async () => {
    const ds = await loadDataset(write('g.txt', '1 3 1\n2 2\n'));
    assert.deepEqual(ds.sequences.map(arr), [[3, 1], [2]]);
    const tb = await loadDataset(write('h.csv', '1,2,3,pv,1511500000\n'), 'taobao', { name: 'tb' });
    assert.equal(tb.name, 'tb');
  });
});

describe(fromEvents.name, () => {
  const ev = (eventId: string, userId: string, type: EventV1['type'], itemId: string | undefined, ts: number, sessionId?: string): EventV1 => ({
    eventId,
    userId,
    type,
    ts,
    ...(itemId === undefined ? {} : { itemId }),
    ...(sessionId === undefined ? {} : { sessionId }),
  });
  const events: EventV1[] = [
    ev('e1', 'alice', 'view', 'sku-1', 2000, 's1'),
    ev('e2', 'bob', 'click', 'sku-2', 1000),
    ev('e3', 'alice', 'search', undefined, 1500, 's1'),
    ev('e4', 'alice', 'add_to_cart', 'sku-2', 1000, 's1'), // earlier: goes first
    ev('e1', 'alice', 'view', 'sku-1', 2000, 's1'), // redelivery
    ev('e5', 'alice', 'purchase', 'sku-2', 2000, 's2'), // same ts as e1: after it
  ];

  it('groups by user, sorts by time stably, skips searches and duplicates, keeps types and timestamps', () => {
    const sut = fromEvents(events);
    assert.deepEqual(sut.users, ['alice', 'bob']);
    assert.deepEqual(sut.itemIds, ['', 'sku-2', 'sku-1']);
    assert.deepEqual(sut.sequences.map(arr), [[1, 2, 1], [1]]);
    assert.deepEqual(sut.types!.map(arr), [[EVENT_TYPE_CODE.add_to_cart, EVENT_TYPE_CODE.view, purchase], [click]]);
    assert.deepEqual(arr(sut.timestamps![0]!), [1000, 2000, 2000]);
    assertValidDataset(sut);
  });

  it('filters event types, groups by session and maps through a fixed vocabulary', () => {
    const vocabulary = ItemVocabulary.fromIds(['', 'sku-1']);
    const sut = fromEvents(events, { groupBy: 'session', vocabulary, unknownItems: 'drop' });
    assert.deepEqual(sut.users, ['alice/s1']);
    assert.deepEqual(sut.sequences.map(arr), [[1]]);
    assert.equal(sut.numItems, 1);
    const buys = fromEvents(events, { eventTypes: ['purchase', 'add_to_cart'], dedupe: false });
    assert.deepEqual(buys.sequences.map(arr), [[1, 1]]);
  });
});
