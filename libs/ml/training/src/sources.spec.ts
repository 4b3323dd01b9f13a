import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeEventsSnapshot } from './sources';

describe(writeEventsSnapshot.name, () => {
  it("leaves out deleted users' events stamped before the deletion, their sessions', and every event of an objector", async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'snapshot-')), 'events.jsonl');
    const m = (e: Record<string, unknown>, timestamp: number) => ({ value: Buffer.from(JSON.stringify({ type: 'view', itemId: 'i', ...e })), timestamp });
    const events = [
      m({ eventId: 'a1', sessionId: 's-ann', ts: 100 }, 100),
      m({ eventId: 'a2', userId: 'ann', sessionId: 's-ann', ts: 200 }, 200),
      m({ eventId: 'a3', userId: 'ann', ts: 2_000 }, 2_000), // came back after the deletion
      m({ eventId: 'a4', userId: 'ann', ts: 2_000 }, 400), // producer clock ahead: Kafka stamped it before
      m({ eventId: 'b1', userId: 'bob', ts: 100 }, 100),
      m({ eventId: 'c1', userId: 'cid', ts: 5_000 }, 5_000),
    ];
    const d = (userId: string, at: number, objection: boolean) => ({ key: Buffer.from(userId), value: Buffer.from(JSON.stringify({ userId, at, objection })) });
    const written = await writeEventsSnapshot(path, events, 0, [d('ann', 500, false), d('cid', 1, true)]);
    const ids = (await readFile(path, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { eventId: string }).eventId);
    assert.deepEqual(ids, ['a3', 'b1']);
    assert.equal(written, 2);
  });
});
