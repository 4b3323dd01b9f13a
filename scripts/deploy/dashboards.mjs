#!/usr/bin/env node
// Generates the Grafana dashboards in deploy/grafana/dashboards/ (checked in; the deploy tests
// fail when the JSON and this generator disagree).
//   node scripts/deploy/dashboards.mjs           write the JSON files
//   node scripts/deploy/dashboards.mjs --check   exit 1 if any file differs from what it would write
//
// Every dashboard is templated by `datasource`, `namespace` and `instance`; every query filters on
// both label variables. A panel whose metric no service exports yet carries `"pending": "<why>"` in
// its JSON (Grafana ignores unknown keys): the live test lists these and fails on any other empty panel.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const OUT = join(new URL('../..', import.meta.url).pathname, 'deploy', 'grafana', 'dashboards');
const DS = { type: 'prometheus', uid: '${datasource}' };
const F = 'namespace=~"$namespace", instance=~"$instance"';
const RI = '$__rate_interval';

/** Panels whose metrics no service exports yet, by reason (a panel opts in with `{ pending: PENDING.x }`). */
const PENDING = {};

const q = (expr, legendFormat = '__auto', extra = {}) => ({ expr, legendFormat, ...extra });
const quantiles = (metric, by = [], filter = F, qs = [0.5, 0.99]) =>
  qs.map((x) =>
    q(
      `histogram_quantile(${x}, sum by (${[...by, 'le'].join(', ')}) (rate(${metric}_bucket{${filter}}[${RI}])))`,
      `p${Math.round(x * 100)}${by.map((b) => ` {{${b}}}`).join('')}`,
    ),
  );

function ts(title, description, targets, unit = 'short', opts = {}) {
  return { type: 'timeseries', title, description, targets, unit, ...opts };
}


function processPanels(service) {
  const f = `${F}, service="${service}"`;
  return [
    { row: `Process: ${service}` },
    ts('CPU', 'CPU seconds per second, per instance (1 = one core).', [q(`sum by (instance) (rate(process_cpu_seconds_total{${f}}[${RI}]))`, '{{instance}}')], 'short'),
    ts('Resident memory', 'Resident set size per instance; compare with the container memory limit.', [q(`max by (instance) (process_resident_memory_bytes{${f}})`, '{{instance}}')], 'bytes'),
    ts('Heap used', 'V8 heap in use per instance.', [q(`sum by (instance) (nodejs_heap_size_used_bytes{${f}})`, '{{instance}}')], 'bytes'),
    ts('Event loop lag p99', 'Event loop delay, 99th percentile: above ~100 ms requests, probes and Kafka heartbeats wait.', [q(`max by (instance) (nodejs_eventloop_lag_p99_seconds{${f}})`, '{{instance}}')], 's'),
    ts('GC time', 'Seconds spent in garbage collection per second, by kind.', [q(`sum by (instance, kind) (rate(nodejs_gc_duration_seconds_sum{${f}}[${RI}]))`, '{{instance}} {{kind}}')], 'percentunit'),
    ts('Restarts (1 h)', 'Process starts seen in the last hour per instance.', [q(`changes(process_start_time_seconds{${f}}[1h])`, '{{instance}}')], 'short'),
  ];
}

function variables(service) {
  const sel = service ? `{namespace=~"$namespace", service="${service}"}` : '{namespace=~"$namespace"}';
  const queryVar = (name, label, query) => ({
    name,
    label,
    type: 'query',
    datasource: DS,
    definition: query,
    query: { query, refId: `${name}-var` },
    refresh: 2,
    sort: 1,
    multi: true,
    includeAll: true,
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    hide: 0,
    options: [],
  });
  return [
    { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: {}, hide: 0, options: [], refresh: 1 },
    queryVar('namespace', 'Namespace', 'label_values(seqrec_platform_info, namespace)'),
    queryVar('instance', 'Instance', `label_values(seqrec_platform_info${sel}, instance)`),
  ];
}

let nextId;
function layout(items) {
  const panels = [];
  let x = 0;
  let y = 0;
  for (const item of items) {
    if (item.row) {
      if (x > 0) y += 8;
      x = 0;
      panels.push({ id: nextId++, type: 'row', title: item.row, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
      y += 1;
      continue;
    }
    const w = item.w ?? 8;
    if (x + w > 24) {
      x = 0;
      y += 8;
    }
    const panel = {
      id: nextId++,
      type: item.type,
      title: item.title,
      description: item.description,
      datasource: DS,
      gridPos: { h: 8, w, x, y },
      targets: item.targets.map((t, i) => ({
        refId: String.fromCharCode(65 + i),
        datasource: DS,
        expr: t.expr,
        legendFormat: t.legendFormat,
        ...(item.type === 'table' ? { instant: true, format: 'table', range: false } : { range: true }),
      })),
      fieldConfig: { defaults: { unit: item.unit }, overrides: [] },
      options:
        item.type === 'table'
          ? { showHeader: true }
          : { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
    };
    if (item.type === 'timeseries') panel.fieldConfig.defaults.custom = { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never' };
    if (item.pending) panel.pending = item.pending;
    panels.push(panel);
    x += w;
  }
  return panels;
}

function dashboard(uid, title, description, items, service) {
  nextId = 1;
  return {
    uid,
    title,
    description,
    tags: ['seqrec'],
    editable: true,
    graphTooltip: 1,
    refresh: '30s',
    schemaVersion: 39,
    version: 1,
    time: { from: 'now-1h', to: 'now' },
    timepicker: {},
    timezone: 'browser',
    links: [{ type: 'dashboards', tags: ['seqrec'], asDropdown: true, title: 'seqrec', includeVars: true, keepTime: true }],
    annotations: { list: [{ builtIn: 1, datasource: { type: 'grafana', uid: '-- Grafana --' }, enable: true, hide: true, iconColor: 'rgba(0, 211, 255, 1)', name: 'Annotations & Alerts', type: 'dashboard' }] },
    templating: { list: variables(service) },
    panels: layout(items),
  };
}

const ingesterPanels = [
  { row: 'Events' },
  ts('Events by source and outcome', 'Input events per second: accepted, duplicate (producer retry within INGEST_DEDUP_TTL_SECONDS), rejected (dead-letter topic).', [q(`sum by (source, outcome) (rate(seqrec_ingester_events_total{${F}}[${RI}]))`, '{{source}} {{outcome}}')], 'ops'),
  ts('Dead letters by reason', 'Events sent to the dead-letter topic per second, by source and reason.', [q(`sum by (source, reason) (rate(seqrec_ingester_rejected_events_total{${F}}[${RI}]))`, '{{source}} {{reason}}')], 'ops'),
  ts('Dead-letter share', 'Rejected / all input events (alert SeqrecDeadLetterRateHigh above 5%).', [q(`sum(rate(seqrec_ingester_rejected_events_total{${F}}[${RI}])) / sum(rate(seqrec_ingester_events_total{${F}}[${RI}]))`, 'rejected share')], 'percentunit'),
  { row: 'Batches' },
  ts('Batches per second', 'Processed Kafka batches and HTTP requests per second.', [q(`sum by (source) (rate(seqrec_ingester_batch_duration_seconds_count{${F}}[${RI}]))`, '{{source}}')], 'ops'),
  ts('Batch size', 'Events per batch or request.', quantiles('seqrec_ingester_batch_size_events', ['source']), 'short'),
  ts('Batch latency', 'Time to validate, de-duplicate and publish one batch (Kafka: one transaction) or request.', quantiles('seqrec_ingester_batch_duration_seconds', ['source']), 's'),
  { row: 'Kafka transactions (INGEST_EXACTLY_ONCE)' },
  ts('Transaction phases p99', 'One transaction per consume call: the handled batches of every partition it returned, their output and their input offsets with the group metadata (KIP-447). queued: the transactional producer initialising (first transaction, or after it was fenced); produce: the output handed to librdkafka (it sends while the transaction goes on); offsets: SendOffsetsToTransaction; commit: the output flushed and acknowledged, then EndTxn.', quantiles('seqrec_kafka_transaction_seconds', ['phase'], F, [0.99]), 's'),
  ts('Messages per transaction', 'Events and dead letters published per transaction.', quantiles('seqrec_kafka_transaction_messages'), 'short'),
  ts('Transactions', 'Committed transactions per second (an aborted one is redone: its batch appears again in the consumer and in the logs).', [q(`sum(rate(seqrec_kafka_transaction_messages_count{${F}}[${RI}]))`, 'transactions/s')], 'ops'),
  ts('Kafka requests by API', 'Requests per second the ingester sends to Kafka, by API, from librdkafka statistics (every 5 s): with INGEST_EXACTLY_ONCE AddPartitionsToTxn, Produce, AddOffsetsToTxn, TxnOffsetCommit and EndTxn per transaction, else Produce and OffsetCommit; plus Fetch. Every request is a round trip and CPU on both sides.', [q(`sum by (api) (rate(seqrec_kafka_requests_total{${F}, service="ingester"}[${RI}]))`, '{{api}}')], 'reqps'),
  { row: 'HTTP' },
  ts('Requests by route and status', 'POST /v1/events answers per second (503: the bus cannot take events; 401/403: no or a wrong API key; 429: a producer key over AUTH_PRODUCER_RATE).', [q(`sum by (route, status) (rate(seqrec_platform_http_requests_total{${F}, service="ingester"}[${RI}]))`, '{{route}} {{status}}')], 'reqps'),
  ts('503 by reason', 'POST /v1/events refused with 503 + Retry-After, by reason: full (INGEST_MAX_IN_FLIGHT_BYTES reached), bus_unavailable, bus_stalled (Kafka not acknowledging), publish_timeout, publish_failed, internal. Clients retry the same request; it is safe.', [q(`sum by (reason) (rate(seqrec_ingester_http_unavailable_total{${F}}[${RI}]))`, '{{reason}}')], 'reqps'),
  ts('Request bytes in flight', 'Bodies being published to the raw topic until Kafka acknowledged them or gave up; at INGEST_MAX_IN_FLIGHT_BYTES new requests get 503 full.', [q(`sum by (instance) (seqrec_ingester_in_flight_bytes{${F}})`, '{{instance}}')], 'bytes'),
  ts('Claims unknown', 'Events answered accepted while the claim store (Redis) did not answer in time: durable on the raw topic, de-duplicated by the raw consumer; only the accepted/duplicate split of the answer is unknown.', [q(`sum(rate(seqrec_ingester_http_claims_unknown_total{${F}}[${RI}]))`, 'events/s')], 'ops'),
  ...processPanels('ingester'),
];

const builderPanels = [
  { row: 'Events and windows' },
  ts('Events by outcome', 'applied; stale = already applied (redelivery after a crash or rebalance); too_late = older than a full window; invalid.', [q(`sum by (outcome) (rate(seqrec_sequence_builder_events_total{${F}}[${RI}]))`, '{{outcome}}')], 'ops'),
  ts('Window updates', 'User windows written per second (one per user per batch).', [q(`sum(rate(seqrec_sequence_builder_window_updates_total{${F}}[${RI}]))`, 'windows/s')], 'ops'),
  ts('Write conflicts', 'Window writes retried because another writer changed the window meanwhile.', [q(`sum(rate(seqrec_sequence_builder_write_conflicts_total{${F}}[${RI}]))`, 'conflicts/s')], 'ops'),
  ts('Corrupt windows', 'Stored windows that did not decode: replaced by a window rebuilt from the new events, their bytes dead-lettered (reason corrupt_window). Anything above zero means something other than seqrec wrote the keys, or Redis lost data.', [q(`sum(rate(seqrec_sequence_builder_corrupt_windows_total{${F}}[${RI}]))`, 'windows/s')], 'ops'),
  ts('Anonymous session windows', 'Session windows (events without a userId) updated per second, one per session per batch.', [q(`sum(rate(seqrec_sequence_builder_session_updates_total{${F}}[${RI}]))`, 'sessions/s')], 'ops'),
  ts('Logins: session merges by outcome', 'Events carrying both a userId and a sessionId, by merge outcome: merged, empty, before (a redelivery or a later event), taken (the session merged into another user). 0 while nobody logs in.', [q(`sum by (outcome) (rate(seqrec_sequence_builder_session_merges_total{${F}}[${RI}])) or on() vector(0)`, '{{outcome}}')], 'ops'),
  ts('Trending: events counted', 'Item events counted into the live trending items per second (a redelivered event counts nothing).', [q(`sum(rate(seqrec_sequence_builder_trending_events_total{${F}}[${RI}]))`, 'events/s')], 'ops'),
  { row: 'Latency' },
  ts('Event → window lag', 'From the event reaching the events topic to its window being written (alert SeqrecEventLagHigh: p99 over 30 s).', quantiles('seqrec_sequence_builder_event_lag_seconds', [], F, [0.5, 0.9, 0.99]), 's'),
  ts('Redis apply latency', 'One batch: pipelined read, merge, conditional write (alert SeqrecRedisApplySlow: p99 over 250 ms).', quantiles('seqrec_sequence_builder_apply_duration_seconds'), 's'),
  ts('Batch size', 'Events per consumed batch.', quantiles('seqrec_sequence_builder_batch_size_events'), 'short'),
  { row: 'Kafka' },
  ts('Batches per second', 'Consumed batches applied per second.', [q(`sum by (instance) (rate(seqrec_sequence_builder_apply_duration_seconds_count{${F}}[${RI}]))`, '{{instance}}')], 'ops'),
  ts('Consumer lag by partition', 'Messages between the group\'s committed offset and the end of each partition.', [q(`sum by (topic, partition) (seqrec_kafka_consumer_lag_messages{${F}, service="sequence-builder"})`, '{{topic}}/{{partition}}')], 'short'),
  ...processPanels('sequence-builder'),
];

const overviewPanels = [
  { row: 'Pipeline: events in → accepted → applied → windows' },
  ts('Events in', 'Input events per second by source (raw Kafka topic, POST /v1/events).', [q(`sum by (source) (rate(seqrec_ingester_events_total{${F}}[${RI}]))`, '{{source}}')], 'ops'),
  ts('Ingest outcomes', 'accepted (to the events topic), duplicate (dropped producer retries), rejected (dead-letter topic).', [q(`sum by (outcome) (rate(seqrec_ingester_events_total{${F}}[${RI}]))`, '{{outcome}}')], 'ops'),
  ts('Dead letters by reason', 'Rejected events per second by reason.', [q(`sum by (reason) (rate(seqrec_ingester_rejected_events_total{${F}}[${RI}]))`, '{{reason}}')], 'ops'),
  ts('Applied to windows', 'Sequence-builder events by outcome.', [q(`sum by (outcome) (rate(seqrec_sequence_builder_events_total{${F}}[${RI}]))`, '{{outcome}}')], 'ops'),
  ts('Windows updated', 'User windows written per second (each one is a window update message for the embedding service).', [q(`sum(rate(seqrec_sequence_builder_window_updates_total{${F}}[${RI}]))`, 'windows/s')], 'ops'),
  ts('Event → window lag', 'Events topic to Redis window.', quantiles('seqrec_sequence_builder_event_lag_seconds'), 's'),
  { row: 'Latency and lag' },
  ts('Ingest batch latency p99', 'Per source.', quantiles('seqrec_ingester_batch_duration_seconds', ['source'], F, [0.99]), 's'),
  ts('Redis apply latency', 'Sequence-builder, one batch.', quantiles('seqrec_sequence_builder_apply_duration_seconds'), 's'),
  ts('Consumer lag by group', 'Messages behind, per consumer group and topic.', [q(`sum by (group, topic) (seqrec_kafka_consumer_lag_messages{${F}})`, '{{group}} {{topic}}')], 'short'),
  { row: 'Recommendations out' },
  ts('Scorer requests', 'Requests per second by route and status.', [q(`sum by (route, status) (rate(seqrec_scorer_requests_total{${F}}[${RI}]))`, '{{route}} {{status}}')], 'reqps'),
  ts('Scorer latency p99', 'By route (alert SeqrecScorerLatencyP99High above 50 ms).', quantiles('seqrec_scorer_request_duration_seconds', ['route'], F, [0.99]), 's'),
  ts('Model in service', 'Model and version each scorer instance serves.', [q(`max by (instance, model, version) (seqrec_scorer_model_info{${F}})`, '{{instance}} {{model}} {{version}}')], 'short'),
  { row: 'Services' },
  ts('Targets up', 'Scraped instances per service that answer.', [q(`sum by (app) (up{job="seqrec", ${F}})`, '{{app}}')], 'short'),
  ts('CPU by service', 'Cores in use, all instances of each service.', [q(`sum by (service) (rate(process_cpu_seconds_total{${F}, service!=""}[${RI}]))`, '{{service}}')], 'short'),
  ts('Event loop lag p99 by service', 'Worst instance of each service.', [q(`max by (service) (nodejs_eventloop_lag_p99_seconds{${F}, service!=""})`, '{{service}}')], 's'),
  { type: 'table', title: 'Platform wiring', description: 'How each process is wired: bus (kafka | memory) and state (redis | memory).', targets: [q(`max by (service, instance, bus, state) (seqrec_platform_info{${F}})`, '')], unit: 'short', w: 24 },
];

const scorerPanels = [
  { row: 'Requests' },
  ts('Requests by route and status', 'Answers per second (429: shed, queue full or behind, or a client key over AUTH_CLIENT_RATE; 401/403: no or a wrong API key; 503: no model, or the process saturated).', [q(`sum by (route, status) (rate(seqrec_scorer_requests_total{${F}}[${RI}]))`, '{{route}} {{status}}')], 'reqps'),
  ts('Latency by route', 'p50 and p99 (alert SeqrecScorerLatencyP99High above 50 ms).', quantiles('seqrec_scorer_request_duration_seconds', ['route']), 's'),
  ts('Popularity fallbacks', 'Answers from the popularity fallback by route and reason.', [q(`sum by (route, reason) (rate(seqrec_scorer_fallback_answers_total{${F}}[${RI}]))`, '{{route}} {{reason}}')], 'reqps'),
  { row: 'Batching and load' },
  ts('Queue depth', 'Requests waiting for a forward pass.', [q(`max by (instance) (seqrec_scorer_queue_depth_requests{${F}})`, '{{instance}}')], 'short'),
  ts('Shed requests', 'Requests refused to protect latency, by reason.', [q(`sum by (reason) (rate(seqrec_scorer_shed_requests_total{${F}}[${RI}]))`, '{{reason}}')], 'reqps'),
  ts('Requests by worker', 'Answers per second per scorer process: one series per worker of each instance with SCORER_WORKERS > 1 (label worker); a lopsided split means few, long-lived client connections (a connection stays on the worker it was handed to).', [q(`sum by (instance, worker) (rate(seqrec_scorer_requests_total{${F}}[${RI}]))`, '{{instance}} {{worker}}')], 'reqps'),
  ts(
    'Forward pass p99',
    'Duration of one batched pass (encode, score, top-k), by kind, and of one inline live-window encode (SASRec, GRU4Rec and LSTM in WebAssembly SIMD).',
    [...quantiles('seqrec_scorer_batch_duration_seconds', ['kind'], F, [0.99]), q(`histogram_quantile(0.99, sum by (le) (rate(seqrec_scorer_inline_encode_seconds_bucket{${F}}[${RI}])))`, 'inline encode')],
    's',
  ),
  ts('Exact top-k time', 'One exact top-k for a user vector (SCORER_EXACT_TOPK=int8: an int8 SIMD scan bounds every item score, the items that can still rank are rescored in full precision), p50 and p99.', quantiles('seqrec_scorer_exact_topk_seconds'), 's'),
  ts('Exact top-k rescored items', 'Items one exact top-k rescored in full precision, p50 and p99: about k while the int8 bound is tight; thousands mean the rescoring dominates (item vectors of very different norms).', quantiles('seqrec_scorer_exact_topk_rescored_items'), 'short'),
  { row: 'Model' },
  ts('Model in service', 'Model, version and TF.js backend per instance.', [q(`max by (instance, model, version, backend) (seqrec_scorer_model_info{${F}})`, '{{instance}} {{model}} {{version}} {{backend}}')], 'short'),
  ts('Model age', 'Since the served version was created (alert SeqrecModelStale above 2 days).', [q(`max by (instance) (seqrec_scorer_model_age_seconds{${F}})`, '{{instance}}')], 's'),
  ts('Model loads', 'Load attempts by outcome (loaded, failed, unchanged).', [q(`sum by (outcome) (increase(seqrec_scorer_model_swaps_total{${F}}[1h]))`, '{{outcome}}')], 'short'),
  ...processPanels('scorer'),
];

const embeddingPanels = [
  { row: 'Encoding' },
  ts('Windows encoded', 'User windows handled per second, by outcome (stored; skipped: no item the model knows; no_model).', [q(`sum by (outcome) (rate(seqrec_embedding_vectors_total{${F}}[${RI}]))`, '{{outcome}}')], 'ops'),
  ts('Encode latency', 'Time to encode one batch of windows and store their vectors, p50 and p99.', quantiles('seqrec_embedding_encode_duration_seconds'), 's'),
  ts('Batch size p50', 'Windows per forward pass.', quantiles('seqrec_embedding_batch_size_users', [], F, [0.5]), 'short'),
  ts('Vector lag p99', 'From the window written by the sequence-builder to its vector stored.', quantiles('seqrec_embedding_lag_seconds', [], F, [0.99]), 's'),
  ts('Model in use', 'Model, version and TF.js backend encoding windows.', [q(`max by (instance, model, version, backend) (seqrec_embedding_model_info{${F}})`, '{{instance}} {{model}} {{version}} {{backend}}')], 'short'),
  ...processPanels('embedding'),
];

const trainerPanels = [
  { row: 'Runs' },
  ts('Runs by outcome', 'Training runs per hour by outcome (promoted, not_promoted, failed).', [q(`sum by (model, outcome) (increase(seqrec_trainer_runs_total{${F}}[1h]))`, '{{model}} {{outcome}}')], 'short'),
  ts('Run duration (mean, 1 d)', 'Load, train, evaluate, save.', [q(`sum by (model) (increase(seqrec_trainer_run_duration_seconds_sum{${F}}[1d])) / sum by (model) (increase(seqrec_trainer_run_duration_seconds_count{${F}}[1d]))`, '{{model}}')], 's'),
  ts('Last run metrics (validation)', 'Metrics of the last completed run on the validation split, full ranking.', [q(`max by (model, metric) (seqrec_trainer_last_metric_ratio{${F}, split="valid", protocol="full"})`, '{{model}} {{metric}}')], 'percentunit'),
  ts('Backend', 'TF.js backend of the trainer (tensorflow = native).', [q(`max by (instance, backend) (seqrec_trainer_backend_info{${F}})`, '{{instance}} {{backend}}')], 'short'),
  ...processPanels('trainer'),
];

const modelPanels = [
  { row: 'Model in service' },
  ts('Model version per scorer', 'Model and version each scorer instance serves.', [q(`max by (instance, model, version) (seqrec_scorer_model_info{${F}})`, '{{instance}} {{model}} {{version}}')], 'short'),
  ts('Model age', 'Since the served model version was created (alert SeqrecModelStale above 2 days).', [q(`max by (instance) (seqrec_scorer_model_age_seconds{${F}})`, '{{instance}}')], 's'),
  ts('TensorFlow backend', 'Backend the scorer runs the model on (tensorflow = native; anything else is the slow fallback).', [q(`count by (backend) (seqrec_scorer_model_info{${F}})`, '{{backend}}')], 'short'),
  { row: 'Training' },
  ts('Training runs', 'Runs per day by outcome.', [q(`sum by (outcome) (increase(seqrec_trainer_runs_total{${F}}[1d]))`, '{{outcome}}')], 'short'),
  ts('Offline quality (test split)', 'HR@10, NDCG@10, MRR, Recall@20 of each trained model (full ranking, chronological leave-one-out).', [q(`max by (model, metric) (seqrec_trainer_last_metric_ratio{${F}, split="test", protocol="full"})`, '{{model}} {{metric}}')], 'percentunit'),
  ts('Training duration', 'Wall time of the last runs.', [q(`sum by (model) (increase(seqrec_trainer_run_duration_seconds_sum{${F}}[1d])) / sum by (model) (increase(seqrec_trainer_run_duration_seconds_count{${F}}[1d]))`, '{{model}}')], 's'),
];

const dashboards = {
  'seqrec-overview.json': dashboard('seqrec-overview', 'seqrec / Overview', 'The pipeline from events in to recommendations out.', overviewPanels),
  'seqrec-ingester.json': dashboard('seqrec-ingester', 'seqrec / Ingester', 'Validation, de-duplication, dead letters, batches.', ingesterPanels, 'ingester'),
  'seqrec-sequence-builder.json': dashboard('seqrec-sequence-builder', 'seqrec / Sequence builder', 'Windows in Redis: outcomes, conflicts, latency, lag.', builderPanels, 'sequence-builder'),
  'seqrec-embedding.json': dashboard('seqrec-embedding', 'seqrec / Embedding', 'Window encoding into user vectors, the model in use.', embeddingPanels, 'embedding'),
  'seqrec-scorer.json': dashboard('seqrec-scorer', 'seqrec / Scorer', 'Requests, latency, load shedding, the served model.', scorerPanels, 'scorer'),
  'seqrec-trainer.json': dashboard('seqrec-trainer', 'seqrec / Trainer', 'Training runs, their metrics and the backend.', trainerPanels, 'trainer'),
  'seqrec-model.json': dashboard('seqrec-model', 'seqrec / Model quality', 'Served model, training runs and offline quality.', modelPanels),
};

const check = process.argv.includes('--check');
mkdirSync(OUT, { recursive: true });
let stale = 0;
for (const [file, json] of Object.entries(dashboards)) {
  const text = `${JSON.stringify(json, null, 2)}\n`;
  const path = join(OUT, file);
  if (check) {
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      // missing
    }
    if (current !== text) {
      console.error(`${path} is not what scripts/deploy/dashboards.mjs generates; run it`);
      stale++;
    }
  } else {
    writeFileSync(path, text);
  }
}
if (check && stale) process.exit(1);
if (!check) console.log(`wrote ${Object.keys(dashboards).length} dashboards to ${OUT}`);
