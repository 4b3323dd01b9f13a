/**
 * Rollback end to end, the trainer, the scorer and the embedding service as their own processes
 * against real Kafka and Redis, sharing one model store: v2 is promoted over v1 through the
 * trainer's API, rolled back to v1 through it, and the scorer then answers with v1 and the
 * embedding service encodes with it (both follow the models topic). After a user deletion, a
 * rollback to a version trained before it is refused with 409 (the API and `npm run models`), and
 * a version trained after it is promoted by the CLI.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import { TOPICS } from '@seqrec/contracts';
import { testKafka, waitFor } from '@seqrec/kafka/testing';
import { createTestArtifact } from '@seqrec/scoring/testing';
import type { RunningService } from '@seqrec/testing';
import { E2eStack } from './stack';

const ITEMS = Array.from({ length: 20 }, (_, i) => `p${i}`);
const ADMIN = 'e2e-rollback-admin';
const CLI = join(__dirname, '..', '..', 'libs', 'ml', 'training', 'dist', 'cli', 'models.js');

describe('rollback: POST /v1/models/{version}/promote and npm run models, through the models topic to the scorer', () => {
  const stack = new E2eStack('rollback', { MODEL_NAME: 'sasrec', TRAIN_MODEL: 'sasrec', SCORER_MODEL_POLL_SECONDS: '0', AUTH_ADMIN_KEYS: ADMIN });
  const { store } = stack;
  let trainer: RunningService;
  let scorer: RunningService;
  let embedding: RunningService;
  let producer: KafkaJS.Producer;
  let v1: { version: string };
  let v2: { version: string };

  before(async () => {
    v1 = await createTestArtifact(store, { items: ITEMS, version: 'v0001', seed: 1, promote: false });
    v2 = await createTestArtifact(store, { items: ITEMS, version: 'v0002', seed: 2, promote: false });
    await store.promote('sasrec', v1.version);
    await stack.createTopics(1);
    producer = testKafka('seqrec-e2e', stack.brokers).producer({ kafkaJS: { idempotent: true, acks: -1 } });
    await producer.connect();
    [trainer, scorer, embedding] = await stack.startAll(['trainer', 'scorer', 'embedding']);
  });

  after(async () => {
    await producer?.disconnect();
    await stack.close();
  });

  const promote = (version: string, body: object = {}) =>
    fetch(`${trainer.url}/v1/models/${version}/promote`, { method: 'POST', headers: { 'x-api-key': ADMIN, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  /** The version the scorer answers with (a user it has never seen: popularity of the served model). */
  const scorerVersion = async () => ((await (await fetch(`${scorer.url}/v1/users/e2e-nobody/recommendations?k=3`)).json()) as { model: { version: string } }).model.version;
  const embeddingVersion = async () => /seqrec_embedding_model_info\{[^}]*version="([^"]+)"[^}]*\} 1/.exec(await (await fetch(embedding.metricsUrl)).text())?.[1];
  const cli = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { env: { ...process.env, SEQREC_TRAINER_URL: trainer.url, SEQREC_ADMIN_KEY: ADMIN } });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it('promotes v2, rolls back to v1 by the API: the scorer answers with v1, the embedding service encodes with it', async () => {
    assert.equal(await scorerVersion(), v1.version);
    const up = await promote(v2.version, { pin: false });
    assert.equal(up.status, 200, await up.clone().text());
    assert.equal(((await up.json()) as { previous: string }).previous, v1.version);
    await waitFor('the scorer to serve v2', async () => (await scorerVersion()) === v2.version, 30_000);
    await waitFor('the embedding service to load v2', async () => (await embeddingVersion()) === v2.version, 30_000);

    const denied = await fetch(`${trainer.url}/v1/models/${v1.version}/promote`, { method: 'POST' });
    assert.equal(denied.status, 401, 'admins only');
    const back = await promote(v1.version);
    assert.equal(back.status, 200);
    const body = (await back.json()) as { model: string; version: string; previous: string; pinned: boolean; alreadyPromoted: boolean };
    assert.deepEqual([body.model, body.version, body.previous, body.pinned, body.alreadyPromoted], ['sasrec', v1.version, v2.version, true, false]);
    await waitFor('the scorer to answer with v1 again', async () => (await scorerVersion()) === v1.version, 30_000);
    await waitFor('the embedding service to load v1 again', async () => (await embeddingVersion()) === v1.version, 30_000);
    assert.equal(await store.current('sasrec'), v1.version);

    const again = await promote(v1.version);
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as { alreadyPromoted: boolean }).alreadyPromoted, true);
    assert.equal((await promote('v9999')).status, 404);

    const list = await cli('list');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^sasrec: promoted ${v1.version}, pinned since `, 'm'));
    assert.match(list.stdout, new RegExp(`^ {2}\\* {2}${v1.version} `, 'm'));
  });

  it('refuses a rollback to a version trained before a user deletion (409, API and CLI); the CLI promotes one trained after it', async () => {
    const at = Date.now();
    await producer.send({ topic: stack.topic(TOPICS.USER_DELETIONS), messages: [{ key: 'e2e-gone', value: JSON.stringify({ userId: 'e2e-gone', at, objection: false }) }] });
    await waitFor('the trainer to record the deletion', async () => (await store.latestDeletion()) === at, 30_000);

    const refused = await promote(v2.version);
    assert.equal(refused.status, 409);
    const reason = (await refused.json()) as { reason: string; message: string };
    assert.equal(reason.reason, 'trained_before_deletion');
    assert.match(reason.message, /before the user deletion of .*: retrain instead/);
    const viaCli = await cli('rollback', v2.version);
    assert.equal(viaCli.code, 1);
    assert.match(viaCli.stderr, new RegExp(`the trainer answered 409: sasrec/${v2.version} was trained on data read at .* before the user deletion`));
    assert.equal(await store.current('sasrec'), v1.version, 'the refusals changed nothing');

    const v3 = await createTestArtifact(store, { items: ITEMS, version: 'v0003', seed: 3, promote: false });
    const listed = await cli('list');
    assert.match(listed.stdout, new RegExp(`^ {2}x {2}${v2.version} `, 'm'), listed.stdout);
    const ok = await cli('promote', v3.version);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`sasrec/${v3.version} promoted \\(was ${v1.version}\\)`));
    await waitFor('the scorer to serve v3', async () => (await scorerVersion()) === v3.version, 30_000);
    assert.equal(await store.pinned('sasrec'), null, 'promote without a pin releases the rollback\'s pin');
  });
});
