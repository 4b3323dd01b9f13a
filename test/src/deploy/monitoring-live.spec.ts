/**
 * The dashboards against a real Prometheus (Debian's `prometheus`): the five services run as
 * processes on real Kafka and Redis, Prometheus scrapes them every second with the alerting rules
 * loaded, events flow through POST /v1/events (accepted, duplicates, malformed ones to the DLQ) and
 * through the sequence-builder into Redis. Then every query of every dashboard panel and template
 * variable goes through Prometheus' HTTP API: an error or an empty result fails, except for the
 * panels listed in PENDING (metrics no service exports yet), which must be exactly the panels marked
 * `pending` in the dashboards. Every alerting rule must evaluate without error.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RedisKeys, TOPICS } from '@seqrec/contracts';
import { brokersFromEnv, deleteNamespaceTopics, testKafka, uniqueName, waitFor } from '@seqrec/kafka/testing';
import { createRedis } from '@seqrec/redis';
import { deleteNamespace, redisUrlFromEnv } from '@seqrec/redis/testing';
import { FsModelStore } from '@seqrec/model-store';
import { createTestArtifact } from '@seqrec/scoring/testing';
import { LOG_DIR, freePort, startService, type RunningService } from '@seqrec/testing';
import { ROOT, concrete, dashboards, queryPanels, tool } from './deploy-tools';

/* eslint-disable @typescript-eslint/no-explicit-any -- Prometheus API answers and dashboards are untyped JSON */
type Obj = Record<string, any>;

const APPS = ['ingester', 'sequence-builder', 'embedding', 'trainer', 'scorer'];
/**
 * Panels whose metrics no running service exports yet ("<dashboard uid> / <panel title>"). Their
 * queries must still be valid; once one returns data, the test says so and it leaves this list.
 */
const PENDING: string[] = [];
const USERS = 40;
const BURSTS = 6;
const RAW_USERS = 10;

describe('monitoring (live): every dashboard panel answers from a real Prometheus scraping the services', () => {
  const ns = uniqueName('monitoring').replace(/\./g, '-');
  const brokers = brokersFromEnv();
  const redisUrl = redisUrlFromEnv();
  const dir = mkdtempSync(join(tmpdir(), 'seqrec-monitoring-'));
  const services: RunningService[] = [];
  let prometheus: ChildProcess | undefined;
  let promUrl = '';
  let sent = 0;
  let accepted = 0;

  const query = async (expr: string): Promise<Obj[]> => {
    const res = await fetch(`${promUrl}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query: expr }) });
    const body = (await res.json()) as Obj;
    if (body.status !== 'success') throw new Error(`${expr}: ${body.errorType}: ${body.error}`);
    return body.data.result as Obj[];
  };
  const scalar = async (expr: string) => Number((await query(expr))[0]?.value?.[1] ?? NaN);

  before(async () => {
    const bin = tool('prometheus', "install Debian's `prometheus` package (`apt-get install --no-install-recommends prometheus`, or `bash scripts/deploy/tools.sh`)");
    const env = {
      KAFKA_BROKERS: brokers.join(','),
      KAFKA_NAMESPACE: ns,
      KAFKA_TOPIC_PARTITIONS: '2',
      REDIS_URL: redisUrl,
      REDIS_PREFIX: ns,
      MODEL_STORE_DIR: join(dir, 'models'),
      LOG_LEVEL: 'warn',
      // the trainer runs once at start on a small dataset file (popularity: seconds)
      TRAIN_MODEL: 'pop',
      TRAIN_DATA_PATH: join(dir, 'train.txt'),
      TRAIN_DATA_FORMAT: 'sasrec',
      TRAIN_RUN_ON_START: 'true',
    };
    mkdirSync(env.MODEL_STORE_DIR);
    const lines: string[] = [];
    for (let u = 0; u < 60; u++) for (let i = 0; i < 8; i++) lines.push(`${u + 1} ${((u * 3 + i * 7) % 50) + 1}`);
    writeFileSync(env.TRAIN_DATA_PATH, `${lines.join('\n')}\n`);
    // the scorer serves a promoted SASRec over the items the traffic below uses
    await createTestArtifact(new FsModelStore(env.MODEL_STORE_DIR), { items: Array.from({ length: 50 }, (_, i) => `item-${i}`) });
    // the stream services first: they create the topics the others subscribe to
    for (const app of APPS) services.push(await startService(app, env, 60_000));

    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    symlinkSync(join(ROOT, 'deploy', 'prometheus', 'rules'), join(dir, 'rules'));
    writeFileSync(
      join(dir, 'prometheus.yml'),
      JSON.stringify({
        global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
        rule_files: ['rules/*.yml'],
        scrape_configs: [
          {
            job_name: 'seqrec',
            static_configs: services.map((s) => ({ targets: [`127.0.0.1:${s.metricsPort}`], labels: { namespace: ns, app: s.name } })),
          },
        ],
      }),
    );
    mkdirSync(LOG_DIR, { recursive: true });
    const log = createWriteStream(join(LOG_DIR, `prometheus-${port}.log`));
    prometheus = spawn(bin, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    prometheus.stdout!.pipe(log, { end: false });
    prometheus.stderr!.pipe(log, { end: false });
    await waitFor('Prometheus ready', async () => (await fetch(`${promUrl}/-/ready`)).ok, 30_000);
    await waitFor('every service scraped', async () => (await scalar(`sum(up{namespace="${ns}"})`)) === APPS.length, 30_000);

    // traffic in bursts over several scrapes: valid events, producer retries, malformed inputs, over
    // HTTP and on the raw topic (the ingester's Kafka path: exactly-once transactions by default)
    const producer = testKafka('seqrec-e2e', brokers).producer({ kafkaJS: { acks: -1 } });
    await producer.connect();
    const ingester = services.find((s) => s.name === 'ingester')!;
    const scorer = services.find((s) => s.name === 'scorer')!;
    const now = Date.now();
    // an experiment with a shadow, so the experiments dashboard has impressions, joined feedback and shadow scorings
    const started = await fetch(`${scorer.url}/v1/experiments/live`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ variants: [{ name: 'a', share: 1 }, { name: 'b', share: 1 }], holdout: 0.1, shadow: { model: { name: 'sasrec' }, sample: 1 } }),
    });
    assert.equal(started.status, 200, `PUT /v1/experiments/live: ${await started.text()}`);
    for (let b = 0; b < BURSTS; b++) {
      const events: unknown[] = [];
      for (let u = 0; u < USERS; u++) {
        const e = { eventId: `${ns}-b${b}-u${u}`, userId: `user-${u}`, type: u % 5 === 0 ? 'add_to_cart' : 'view', itemId: `item-${(u * 7 + b) % 50}`, ts: now - (BURSTS - b) * 60_000 };
        events.push(e);
        if (u % 10 === 0) events.push(e); // retry: a duplicate
      }
      events.push({ eventId: `${ns}-bad-${b}`, userId: 'user-1', type: 'like', itemId: 'x', ts: now });
      events.push({ eventId: `${ns}-noitem-${b}`, userId: 'user-2', type: 'purchase', ts: now });
      const raw = Array.from({ length: RAW_USERS }, (_, u) => ({ eventId: `${ns}-raw-b${b}-u${u}`, userId: `raw-user-${u}`, type: 'click', itemId: `item-${(u * 3 + b) % 50}`, ts: now - (BURSTS - b) * 60_000 }));
      await producer.send({ topic: `${ns}.${TOPICS.CLICKSTREAM_RAW}`, messages: raw.map((e) => ({ key: e.userId, value: JSON.stringify(e) })) });
      accepted += raw.length;
      sent += raw.length;
      const res = await fetch(`${ingester.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
      const text = await res.text();
      assert.equal(res.status, 200, `POST /v1/events: ${text}`);
      const body = JSON.parse(text) as { accepted: number };
      accepted += body.accepted;
      sent += events.length;
      // scorer traffic: known users (model answers), an unknown one (popularity fallback), a rank
      const feedback: unknown[] = [];
      for (const user of ['user-1', 'user-5', `nobody-${b}`]) {
        const r = await fetch(`${scorer.url}/v1/users/${user}/recommendations?k=5`);
        assert.equal(r.status, 200, `recommendations for ${user}: ${await r.clone().text()}`);
        // the shopper clicks, carts and buys the first item, passing the answer's request id back
        const answer = (await r.json()) as { requestId: string; items: Array<{ itemId: string }> };
        for (const type of ['click', 'add_to_cart', 'purchase']) {
          feedback.push({ eventId: `${ns}-fb-${b}-${user}-${type}`, userId: user, type, itemId: answer.items[0]!.itemId, ts: Date.now(), requestId: answer.requestId, revenue: 12 });
        }
      }
      const fb = await fetch(`${ingester.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(feedback) });
      assert.equal(fb.status, 200, `POST /v1/events (feedback): ${await fb.clone().text()}`);
      const fbBody = (await fb.json()) as { accepted: number };
      accepted += fbBody.accepted;
      sent += feedback.length;
      const rank = await fetch(`${scorer.url}/v1/rank`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: 'user-3', items: ['item-1', 'item-2', 'item-404'] }),
      });
      assert.equal(rank.status, 200, `rank: ${await rank.text()}`);
      await new Promise((r) => setTimeout(r, 1_100));
    }
    await producer.disconnect();
    assert.equal(accepted, (USERS + RAW_USERS + 9) * BURSTS, 'every valid event accepted (9 feedback events per burst)');
    // Prometheus holds the final counts, and at least one more scrape after them (rate() needs two)
    await waitFor('Prometheus has every ingested event', async () => (await scalar(`sum(seqrec_ingester_events_total{namespace="${ns}"})`)) === sent, 30_000);
    await waitFor('Prometheus has every applied event', async () => (await scalar(`sum(seqrec_sequence_builder_events_total{namespace="${ns}"})`)) === accepted, 30_000);
    await waitFor('every click joined to its impression', async () => (await scalar(`sum(seqrec_experiment_clicks_total{namespace="${ns}"})`)) === 3 * BURSTS, 30_000);
    await waitFor('the trainer run in Prometheus', async () => (await scalar(`sum(seqrec_trainer_runs_total{namespace="${ns}"})`)) >= 1, 60_000);
    const settled = Date.now();
    await waitFor('two more scrapes', async () => (await scalar(`min(timestamp(up{namespace="${ns}"}))`)) * 1000 > settled + 2_000, 10_000);
  });

  after(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((r) => prometheus!.once('exit', r));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await Promise.all(services.map((s) => s.stop()));
    await deleteNamespaceTopics(brokersFromEnv(), ns);
    const redis = createRedis({ url: redisUrl, connectionName: 'seqrec-e2e' });
    await redis.connect();
    await deleteNamespace(redis, new RedisKeys(ns));
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the pending list is exactly the panels marked pending in the dashboards', () => {
    const marked = dashboards().flatMap(({ json }) => queryPanels(json).filter((p) => p.pending).map((p) => `${json.uid} / ${p.title}`));
    assert.deepEqual([...marked].sort(), [...PENDING].sort());
  });

  it('every template variable has values', async () => {
    for (const { file, json } of dashboards()) {
      for (const v of (json.templating.list as Obj[]).filter((x) => x.type === 'query')) {
        const m = /^label_values\((.+),\s*(\w+)\)$/.exec(v.query.query as string);
        assert.ok(m, `${file}: ${v.name}: only label_values(selector, label) is supported`);
        const selector = m[1]!.replaceAll('$namespace', ns);
        const res = await fetch(`${promUrl}/api/v1/label/${m[2]}/values?${new URLSearchParams({ 'match[]': selector })}`);
        const values = ((await res.json()) as Obj).data as string[];
        assert.ok(values.length > 0, `${file}: variable ${v.name} (${selector}) has no values`);
        if (v.name === 'namespace') assert.ok(values.includes(ns), `${file}: namespace variable lists ${ns}`);
      }
    }
  });

  it('every panel query returns series (pending ones: valid, listed)', async (t) => {
    const empty: string[] = [];
    const nowHasData: string[] = [];
    const nsRegex = ns.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&');
    for (const { file, json } of dashboards()) {
      for (const p of queryPanels(json)) {
        const name = `${json.uid} / ${p.title}`;
        let series = 0;
        for (const target of p.targets as Obj[]) {
          const expr = concrete(target.expr as string, nsRegex, '1m');
          let result: Obj[];
          try {
            result = await query(expr);
          } catch (err) {
            assert.fail(`${file}: "${p.title}": ${(err as Error).message}`);
          }
          series += result.length;
        }
        if (PENDING.includes(name)) {
          if (series > 0) nowHasData.push(name);
        } else if (series === 0) empty.push(name);
      }
    }
    for (const name of PENDING) t.diagnostic(`pending (no metric yet): ${name}`);
    for (const name of nowHasData) t.diagnostic(`pending panel now has data, drop it from PENDING and its "pending" marker: ${name}`);
    assert.deepEqual(empty, [], 'panels without series');
  });

  it('every alerting rule evaluates without error', async () => {
    await waitFor('rules evaluated', async () => {
      const groups = ((await (await fetch(`${promUrl}/api/v1/rules`)).json()) as Obj).data.groups as Obj[];
      return groups.length > 0 && groups.every((g) => (g.rules as Obj[]).every((r) => r.lastEvaluation && !r.lastEvaluation.startsWith('0001')));
    });
    const groups = ((await (await fetch(`${promUrl}/api/v1/rules`)).json()) as Obj).data.groups as Obj[];
    const bad = groups.flatMap((g) => (g.rules as Obj[]).filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`));
    assert.deepEqual(bad, []);
  });
});
