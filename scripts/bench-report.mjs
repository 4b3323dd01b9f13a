#!/usr/bin/env node
// Renders bench/results/*.json: the full tables into bench/RESULTS.md (between the BENCH markers)
// and one summary line per benchmark into the README (between the bench-summary markers), so every
// figure comes from a benchmark run (`npm run bench:<name>`), never from hand-typing. scripts/bench.sh
// runs it after every benchmark.
// Usage: node scripts/bench-report.mjs   (npm run bench:report)
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { replaceSection } from './lib/generated.mjs';

const root = new URL('..', import.meta.url).pathname;
const readme = `${root}README.md`;
const resultsMd = `${root}bench/RESULTS.md`;
const load = (name) => {
  const f = `${root}bench/results/${name}.json`;
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : null;
};
const fmt = (n, d = 0) => (typeof n === 'number' ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : String(n));
const out = [];

const ingest = load('ingest');
if (ingest) {
  const m = ingest.machine ?? {};
  out.push(
    `### bench:ingest (${ingest.at?.slice(0, 10)}, ${m.cores} × ${m.cpuModel}, load at start ${m.loadAvgAtStart?.join(' ')})`,
    '',
    `${fmt(ingest.events)} events (${fmt(ingest.producerRetries)} producer retries, ${fmt(ingest.malformed)} malformed), ${fmt(ingest.users)} users, ${fmt(ingest.items)} items, ${ingest.partitions} partitions, window ${ingest.windowLength}, backend: ${ingest.backend}.`,
    '',
    '| figure | value |',
    '| --- | --- |',
    ingest.offeredRatePerSec === undefined
      ? `| sustained throughput, generator → Redis | **${fmt(ingest.eventsPerSec)} events/s** (${fmt(ingest.seconds, 1)} s) |`
      : `| open loop, ${fmt(ingest.offeredRatePerSec)} events/s offered for ${fmt(ingest.loadSeconds, 1)} s | ${ingest.sustained ? '**sustained**' : '**not sustained**'}: ${fmt(ingest.appliedPerSecDuringLoad)} events/s applied, backlog at the end ${fmt(ingest.backlogAtEndEvents)} events (${fmt(ingest.backlogAtEndSeconds, 2)} s of traffic) |`,
    ...(ingest.cpuMicrosPerEvent
      ? [`| CPU µs per event by process (total ${fmt(ingest.cpuMicrosPerEventTotal, 1)}) | ${Object.entries(ingest.cpuMicrosPerEvent).map(([k, v]) => `${k} ${v}`).join(', ')} |`]
      : []),
    `| Kafka's ProducerPerformance, same broker, size and count | ${fmt(ingest.brokerPerfTestEventsPerSec)} records/s (ratio ${fmt(ingest.ratioToBrokerPerfTest, 2)}) |`,
    `| lost / duplicated (every window verified) | ${ingest.lost} / ${ingest.duplicated} |`,
    `| latency produced → visible in Redis, p50 / p99 (at ${ingest.latencyNote?.match(/at (\d+)\/s/)?.[1] ?? '?'} events/s) | ${fmt(ingest.p50Ms)} ms / ${fmt(ingest.p99Ms)} ms |`,
    `| same, inside the saturated phase (queueing) | ${fmt(ingest.saturatedP50Ms)} ms / ${fmt(ingest.saturatedP99Ms)} ms |`,
    `| state memory per user, full ${ingest.windowLength}-event window (Redis MEMORY USAGE) | ${fmt(ingest.bytesPerUser)} B (value ${fmt(ingest.bytesPerUserValueOnly)} B) |`,
    `| CPU seconds by process | ${Object.entries(ingest.cpuSecondsByProcess ?? {}).map(([k, v]) => `${k} ${v}`).join(', ')} |`,
    '',
  );
}
const score = load('score');
// Modes of scorer options since removed (SCORER_EXACT_TOPK=auto, SCORER_LIVE_ENCODE=batched): a
// results file measured before the removal still holds them; the README shows the modes that exist.
const RETIRED_SCORE_MODES = new Set(['live_window_auto', 'stored_vector_auto', 'stored_vector_auto_w2', 'live_window_batched']);
if (score) {
  const retired = Object.keys(score.modes ?? {}).filter((k) => RETIRED_SCORE_MODES.has(k));
  score.modes = Object.fromEntries(Object.entries(score.modes ?? {}).filter(([k]) => !RETIRED_SCORE_MODES.has(k)));
  score.modesExplained = Object.fromEntries(Object.entries(score.modesExplained ?? {}).filter(([k]) => !RETIRED_SCORE_MODES.has(k)));
  const m = score.machine ?? {};
  out.push(
    `### bench:score (${score.at?.slice(0, 10)}, ${m.cores} × ${m.cpuModel}, load at start ${m.loadAvgAtStart?.join(' ')})`,
    '',
    `${score.request}; ${score.model?.kind} over ${fmt(score.model?.items)} items (d=${score.model?.dim}, ${score.model?.weights} weights), ${fmt(score.users)} users with live windows in Redis, backend ${score.backend}${score.backendVersion ? ` (${score.backendVersion})` : ''}, ${score.loadGenerator}.`,
    '',
    ...Object.entries(score.modesExplained ?? {}).map(([k, v]) => `- \`${k}\`: ${v}`),
    '',
    '| mode | asked rps | achieved rps | p50 ms | p99 ms | p99.9 ms | errors | shed (429/503) | scorer CPU ms/request | cores: scorer / redis / load generator |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  const r1 = (v) => (typeof v === 'number' ? Number(v.toFixed(1)) : '-');
  for (const [mode, r] of Object.entries(score.modes ?? {})) {
    const r2 = (v) => (typeof v === 'number' ? Number(v.toFixed(2)) : '-');
    for (const st of r.steps) {
      const cores = typeof st.scorerCores === 'number' ? `${r2(st.scorerCores)} / ${r2(st.redisCores)} / ${r2(st.benchCores)}` : '-';
      out.push(`| ${mode} | ${st.rps} | ${st.achievedRps} | ${r1(st.p50Ms)} | ${r1(st.p99Ms)} | ${r1(st.p999Ms)} | ${st.errors} | ${st.shed ?? '-'} | ${typeof st.scorerCpuMsPerRequest === 'number' ? st.scorerCpuMsPerRequest.toFixed(3) : '-'} | ${cores} |`);
    }
  }
  out.push('', `peakRps (p99 ≤ 50 ms, no errors, nothing shed): ${Object.entries(score.modes ?? {}).map(([k, r]) => `${k} ${r.peakRps}`).join(', ')}.`);
  if (retired.length) out.push('', `Not shown: ${retired.join(', ')}, measured in this run for scorer options removed since (issue 18).`);
  const rss = Object.entries(score.modes ?? {}).filter(([, r]) => typeof r.scorerRssMB === 'number');
  if (rss.length) out.push('', `Scorer resident memory after the warm-up (all its processes): ${rss.map(([k, r]) => `${k} ${r.scorerRssMB} MB${r.workers > 1 ? ` (${r.workers} workers)` : ''}`).join(', ')}.`);
  const recalls = Object.entries(score.modes ?? {}).filter(([, r]) => typeof r.indexRecallAt20 === 'number');
  if (recalls.length) out.push('', `Approximate index recall@20 vs exact, measured by the scorer at load: ${recalls.map(([k, r]) => `${k} ${r.indexRecallAt20.toFixed(4)}`).join(', ')}. ${score.indexNote ?? ''}`);
  const served = Object.entries(score.modes ?? {}).filter(([, r]) => r.recallAt20VsExact);
  if (served.length) out.push('', `Recall@20 of the served answers against the exact mode's, the same ${served[0][1].recallAt20VsExact.users} users asked of both (rules included): ${served.map(([k, r]) => `${k} vs ${r.recallAt20VsExact.exactMode} ${r.recallAt20VsExact.recall.toFixed(4)}${r.recallAt20VsExact.answersBelowK ? ` (${r.recallAt20VsExact.answersBelowK} answers below k)` : ''}`).join(', ')}.`);
  if (score.model?.training) out.push('', `Model: ${score.model.training.data}; trained ${score.model.training.seconds} s, test full-ranking NDCG@10 ${Number(score.model.training.metrics?.['test.full.NDCG@10']).toFixed(4)}. Windows: ${score.windowEvents}.`);
  if (typeof score.storedVectorRecallAt20 === 'number') out.push('', `Stored (int8) user vector vs live-window encoding, recall@20: ${score.storedVectorRecallAt20.toFixed(4)}.`);
  out.push('');
}
const topk = load('topk');
if (topk) {
  const m = topk.machine ?? {};
  out.push(
    `### bench:topk (${topk.at?.slice(0, 10)}, ${m.cores} × ${m.cpuModel}, load at start ${m.loadAvgAtStart?.join(' ')})`,
    '',
    `The scorer's exact top-k, in isolation: ${topk.measures}; backend ${topk.backend} (${topk.backendVersion}).`,
    '',
    '| way | ms per query | CPU ms per query | × int8 (wall / CPU) | same top-k as int8 |',
    '| --- | --- | --- | --- | --- |',
    ...Object.entries(topk.ways ?? {}).map(
      ([way, w]) => `| ${way} | ${w.msPerQuery} | ${w.cpuMsPerQuery} | ${w.overInt8} / ${w.cpuOverInt8} | ${topk.sameTopKAsInt8?.[way] === undefined ? '-' : `${topk.sameTopKAsInt8[way]} of ${topk.sameTopKAsInt8.queries}`} |`,
    ),
    '',
    `int8 (SIMD ${topk.int8?.simd}): ${topk.int8?.rescoredMean} items rescored in full precision per query (p99 ${topk.int8?.rescoredP99}); built in ${topk.int8?.buildMs} ms, ${fmt((topk.int8?.extraBytes ?? 0) / 1e6, 1)} MB beside the float table. matmul = one TF matMul + topk per query; matmul-batch16 = 16 queries per matMul; f32-scan = the float table through the f32 SIMD dot kernel and a JS top-k.${topk.rules ? ` ${topk.rules.filter}; ${topk.rules.cap} (${topk.rules.scansPerQueryWithCapMean} scans per query on average); their answers differ from int8's by design (checked against a brute force in the unit tests).` : ''}`,
    '',
  );
}
const fresh = load('freshness');
if (fresh) {
  out.push(`### bench:freshness (${fresh.at?.slice(0, 10)})`, '', `${fresh.measures}; ${fresh.pipeline}.`, '', '| mode | events/s | p50 ms | p99 ms | samples | missed |', '| --- | --- | --- | --- | --- | --- |');
  for (const r of fresh.modes ?? []) out.push(`| ${r.mode} | ${r.achievedEventsPerSec} | ${r.p50Ms} | ${r.p99Ms} | ${r.samples} | ${r.missed ?? '-'} |`);
  const parts = (fresh.modes ?? []).filter((r) => r.parts);
  if (parts.length) {
    out.push('', 'Where the time goes (p50 / p99 ms):', '', `| mode | ${Object.keys(parts[0].parts).join(' | ')} |`, `| --- |${Object.keys(parts[0].parts).map(() => ' --- |').join('')}`);
    for (const r of parts) out.push(`| ${r.mode} | ${Object.values(r.parts).map((p) => `${p.p50Ms} / ${p.p99Ms}`).join(' | ')} |`);
  }
  const cpu = (fresh.modes ?? []).filter((r) => r.cpuByProcess);
  if (cpu.length) {
    out.push('', `Cores used meanwhile, by process (the load thread ran at nice ${fresh.loadThreadNice ?? 0}):`, '');
    for (const r of cpu) out.push(`- ${r.mode}: ${Object.entries(r.cpuByProcess).map(([k, v]) => `${k} ${v ? v.cores.toFixed(2) : '-'}`).join(', ')}`);
  }
  out.push('');
}
const ab = load('h17-before-after');
if (ab) {
  const loads = ab.loadAverage1mBeforeRuns ?? {};
  out.push(
    `### before/after issue 17 (${ab.at?.slice(0, 10)}): services of ${ab.before?.commit} against ${ab.after?.commit}, same benchmark code`,
    '',
    `${ab.method}. Load average (1 min) before the runs: ${fmt(loads.min, 1)} to ${fmt(loads.max, 1)} on ${ab.machine?.cores} cores shared with other work; settings ${JSON.stringify(ab.settings)}.`,
    '',
    '| benchmark | figure | before: median (min–max) | after: median (min–max) | change of medians |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const [bench, figures] of Object.entries(ab.summary ?? {})) {
    for (const [figure, f] of Object.entries(figures)) {
      out.push(`| ${bench} | ${figure} | ${fmt(f.before.median, 1)} (${fmt(f.before.min, 1)}–${fmt(f.before.max, 1)}) | ${fmt(f.after.median, 1)} (${fmt(f.after.min, 1)}–${fmt(f.after.max, 1)}) | ${f.changePercent === null ? '-' : `${f.changePercent > 0 ? '+' : ''}${f.changePercent}%`} |`);
    }
  }
  out.push('');
}
const train = load('train');
if (train) {
  const m = train.machine ?? {};
  out.push(`### bench:train (${String(train.finished).slice(0, 10)}, ${m.cores} × ${m.cpuModel}, load at start ${(m.loadAvgAtStart ?? []).join(' ')})`, '');
  const capped = train.runs.some((r) => r.epochSecondsExtrapolated !== undefined && r.sequences !== undefined && r.sequences < 6040);
  out.push(`${train.dataset}; ${capped ? 'one epoch capped at a number of steps per run (epoch time extrapolated)' : 'one whole epoch per run'}, each run a separate trainer process. Reference: ${train.reference}.`, '');
  out.push('| model | backend | loss | maxLen | steps | sequences/s | epoch s | peak RSS MB |', '|---|---|---|---|---|---|---|---|');
  for (const r of train.runs) {
    out.push(r.error ? `| ${r.model} | ${r.backend ?? '-'} | - | - | - | ${r.error} | - | - |` : `| ${r.model} | ${r.backend} | ${r.loss} | ${r.maxLen} | ${r.steps} | ${r.sequencesPerSecond} | ${r.epochSecondsExtrapolated ?? r.epochSeconds} | ${r.peakRssMB ?? '-'} |`);
  }
  if (train.profile?.kernels) {
    const p = train.profile;
    out.push('', `Per-op profile of sasrec-bce (${p.steps} steps under \`tf.profile\`, ${p.version}): ${p.wallSecondsPerStep} s per step, ${p.kernelSecondsPerStep} s of it in ${p.kernelCallsPerStep} kernel calls.`, '');
    out.push('| kernel | calls per step | s per step | share of kernel time |', '|---|---|---|---|');
    for (const k of p.kernels.slice(0, 10)) out.push(`| ${k.kernel} | ${k.callsPerStep} | ${k.secondsPerStep} | ${(100 * k.share).toFixed(1)}% |`);
  }
  const ratios = (train.ratios ?? []).map((r) => `${r.model}: ${[...('nativeOverCpu' in r ? [`native/cpu ${r.nativeOverCpu ?? '-'}`] : []), ...(r.onednnOverEigen !== undefined ? [`oneDNN/Eigen ${r.onednnOverEigen ?? '-'}`] : []), ...(r.epochOverPytorch !== undefined ? [`epoch / PyTorch's ${r.epochOverPytorch ?? '-'}`] : [])].join(', ')}`);
  if (ratios.length) out.push('', `Ratios (sequences/s, same run): ${ratios.join('; ')}.`);
  if (train.note) out.push('', train.note);
  out.push('');
}
const experiments = load('experiments');
if (experiments) {
  const m = experiments.machine ?? {};
  const { aa, ab } = experiments;
  const pct = (x) => `${(100 * x).toFixed(2)}%`;
  out.push(
    `### bench:experiments (${experiments.at?.slice(0, 10)}, ${m.cores} × ${m.cpuModel})`,
    '',
    `${experiments.protocol}. Test: ${experiments.test}.`,
    '',
    '| figure | value |',
    '| --- | --- |',
    `| A/A runs, false positives (any look) | ${aa.falsePositives} of ${aa.runs} = **${pct(aa.rate)}**; bound alpha + 2 SE = ${pct(aa.bound)} (${aa.withinBound ? 'within' : '**exceeded**'}) |`,
    `| A/B expected CTR, control → treatment | ${pct(ab.expectedCtr.control)} → ${pct(ab.expectedCtr.treatment)} (×${ab.expectedCtr.relative.toFixed(2)}); observed ${pct(ab.observedCtr.control)} → ${pct(ab.observedCtr.treatment)} |`,
    `| A/B runs naming the treatment (power) | ${ab.treatmentNamed} of ${ab.runs} = **${pct(ab.power)}**; wrong winner ${ab.wrongWinner} |`,
    `| impressions until the winner was named (median / max) | ${ab.impressionsToDecision ? `${fmt(ab.impressionsToDecision.median)} / ${fmt(ab.impressionsToDecision.max)}` : '-'} |`,
    '',
  );
}
const coldstart = load('coldstart');
if (coldstart) {
  const m = coldstart.machine ?? {};
  const f4 = (x) => (typeof x === 'number' ? x.toFixed(4) : '-');
  out.push(
    `### bench:coldstart (${coldstart.at?.slice(0, 10)}, ${m.cores} × ${m.cpuModel})`,
    '',
    `${coldstart.protocol}.`,
    '',
    `| dataset | content features | new items: content | new items: popularity within attribute | full catalogue, users with a new target: raw → boost ${coldstart.defaultBoost} | full catalogue, all users: raw → boost ${coldstart.defaultBoost} | new items per top 10 at boost ${coldstart.defaultBoost} | re-rank of 100: raw → boost ${coldstart.defaultBoost} | content beats popularity within attribute |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const [name, d] of Object.entries(coldstart.datasets ?? {})) {
    const nd = d.newItemsNdcg10;
    const [raw, cal] = [d.full?.['0'], d.full?.[String(coldstart.defaultBoost)]];
    const cost = raw && cal ? ` (${(((cal.allNdcg10 - raw.allNdcg10) / raw.allNdcg10) * 100).toFixed(1)}%)` : '';
    out.push(
      `| ${name} | ${d.content} | ${f4(nd.content)} | ${f4(nd.popularityWithinAttribute)} | ${f4(raw?.newItemsNdcg10)} → ${f4(cal?.newItemsNdcg10)} | ${f4(raw?.allNdcg10)} → ${f4(cal?.allNdcg10)}${cost} | ${cal ? cal.newItemsShownPerList.toFixed(2) : '-'} | ${f4(d.rerankNdcg10.content)} → ${f4(d.rerankNdcg10.calibrated)} | ${d.contentBeatsPopularityWithinAttribute ? 'yes' : '**no**'} |`,
    );
  }
  out.push('', "NDCG@10, mean over the seeds. `raw` (SCORER_NEW_ITEM_BOOST=0): the content vector's dot product, the scorer before calibration (new items almost never reach a full-catalogue top 10); `boost`: the default, that share of the score standardised per user to the known items' score distribution (`ContentMap.calibrate`). `all users`: every test user, the model's own test item or a held-out one as target (what showing new items costs). Every boost measured (0, 0.5, the default, 1), per seed, HR@10 and the known-target NDCG@10 in `bench/results/coldstart.json`; docs/coldstart.md discusses them.", '');
}
const trending = load('trending');
if (trending) {
  const m = trending.machine ?? {};
  out.push(
    `### bench:trending (${trending.at?.slice(0, 10)}, ${m.cores} × ${m.cpuModel}, load at start ${m.loadAvgAtStart?.join(' ')})`,
    '',
    `${fmt(trending.events)} item events in batches of ${trending.batch} over ${fmt(trending.items)} items (skewed), half-life ${trending.halfLifeMinutes} min, one Redis.`,
    '',
    '| figure | value |',
    '| --- | --- |',
    `| counting, per event: wall (one script call per batch) / Redis CPU | ${trending.wallMicrosPerEvent} µs / ${trending.redisCpuMicrosPerEvent} µs |`,
    `| per batch of ${trending.batch}, p50 / p99 | ${trending.batchP50Ms} ms / ${trending.batchP99Ms} ms |`,
    `| a redelivered batch (nothing counted), per event: wall / Redis CPU | ${trending.redeliveryWallMicrosPerEvent} µs / ${trending.redeliveryRedisCpuMicrosPerEvent} µs |`,
    `| scorer's read, top 250 with scores, p50 / p99 | ${trending.readTop250P50Ms} ms / ${trending.readTop250P99Ms} ms |`,
    `| sorted set: members / memory | ${fmt(trending.members)} / ${fmt(trending.setMemoryBytes)} B |`,
    `| renormalisation (every 64 half-lives) | ${trending.renormalisationMs} ms |`,
    '',
  );
}
const search = load('search');
if (search) {
  const m = search.machine ?? {};
  const f4 = (x) => (typeof x === 'number' ? x.toFixed(4) : '-');
  out.push(
    `### bench:search (${search.at?.slice(0, 10)}, ${m.cores} × ${m.cpuModel})`,
    '',
    `${search.protocol}. ${search.searches.valid} validation and ${search.searches.test} test searches, ${Math.round(search.searches.meanCandidates)} candidates each on average.`,
    '',
    '| engine noise | engine order | personal score | blend (weight fitted on validation) | blend at the best weight for test | blend beats both |',
    '| --- | --- | --- | --- | --- | --- |',
    ...search.rows.map((r) => `| ${r.engineNoise} | ${f4(r.ndcg10.engine)} | ${f4(r.ndcg10.personal)} | ${f4(r.ndcg10.blend)} (w ${r.weight.fitted}) | ${f4(r.ndcg10.oracleWeight)} (w ${r.weight.oracle}) | ${r.blendBeatsBoth ? 'yes' : 'no'} |`),
    '',
    'NDCG@10 of the item viewed after the search. The model does not see the query: the personal score ranks the whole category, the engine knows which items match it.',
    '',
  );
}
for (const name of ['quality']) {
  const md = `${root}bench/results/${name}.md`;
  const json = load(name);
  if (existsSync(md)) {
    out.push(`### bench:${name}${json?.finished || json?.at ? ` (${String(json.finished ?? json.at).slice(0, 10)})` : ''}`, '', readFileSync(md, 'utf8').trim(), '');
  }
}
if (out.length === 0) out.push('No results yet: run a benchmark.');

/** One line per benchmark for the README: its headline figures and the run's date. */
function summary() {
  const rows = ['| benchmark | what it measures | latest committed run | date |', '| --- | --- | --- | --- |'];
  const date = (j) => String(j.at ?? j.finished ?? '').slice(0, 10);
  if (ingest) {
    const head =
      ingest.offeredRatePerSec === undefined
        ? `${fmt(ingest.eventsPerSec)} events/s closed loop (kafkajs era, superseded)`
        : `${fmt(ingest.appliedPerSecDuringLoad)} events/s applied at ${fmt(ingest.offeredRatePerSec)} offered (${ingest.sustained ? 'sustained' : 'not sustained'}), ${ingest.ratioToBrokerPerfTest} of Kafka's ProducerPerformance`;
    rows.push(`| \`bench:ingest\` | load → raw topic → ingester → events topic → sequence-builder → Redis | ${head}; lost ${fmt(ingest.lost)}, duplicated ${fmt(ingest.duplicated)} | ${date(ingest)} |`);
  }
  if (fresh) {
    const modes = (fresh.modes ?? []).map((m) => `${m.mode} p50 ${m.p50Ms} / p99 ${m.p99Ms} ms at ${fmt(m.eventsPerSec)}/s`).join('; ');
    rows.push(`| \`bench:freshness\` | event accepted → reflected in the scorer's answer | ${modes || `p50 ${fresh.p50Ms} / p99 ${fresh.p99Ms} ms`} | ${date(fresh)} |`);
  }
  if (score) rows.push(`| \`bench:score\` | the scorer under open-loop HTTP load, per serving mode | peak ${fmt(score.peakRps)} requests/s (${score.mode ?? 'default mode'}); every mode in RESULTS.md | ${date(score)} |`);
  if (topk) rows.push(`| \`bench:topk\` | exact top-k alone: int8 scan, TF matMul, f32 scan | see RESULTS.md | ${date(topk)} |`);
  if (trending) rows.push(`| \`bench:trending\` | live trending counts in Redis, per event | ${trending.wallMicrosPerEvent} µs wall, ${trending.redisCpuMicrosPerEvent} µs Redis CPU per event | ${date(trending)} |`);
  if (train) rows.push(`| \`bench:train\` | training speed per model and backend | see RESULTS.md | ${date(train)} |`);
  if (experiments) rows.push(`| \`bench:experiments\` | the experiment report on simulated shoppers: A/A false positives under repeated looks, A/B power | false positives ${(100 * experiments.aa.rate).toFixed(1)}% (bound ${(100 * experiments.aa.bound).toFixed(1)}%), power ${(100 * experiments.ab.power).toFixed(0)}% for CTR ×${experiments.ab.expectedCtr.relative.toFixed(2)} | ${date(experiments)} |`);
  if (coldstart) {
    const ds = Object.entries(coldstart.datasets ?? {});
    const b = String(coldstart.defaultBoost);
    const full = ds.filter(([, d]) => d.full?.[b]).map(([k, d]) => `${k} ${d.full[b].newItemsNdcg10.toFixed(3)} (all users ${d.full['0'].allNdcg10.toFixed(4)} → ${d.full[b].allNdcg10.toFixed(4)})`);
    rows.push(`| \`bench:coldstart\` | items the model never saw, ranked from their content | new-item NDCG@10 content vs popularity within attribute: ${ds.map(([k, d]) => `${k} ${d.newItemsNdcg10.content.toFixed(3)} vs ${d.newItemsNdcg10.popularityWithinAttribute.toFixed(3)}`).join(', ')}${full.length ? `; full catalogue at boost ${b}: ${full.join(', ')}` : ''} | ${date(coldstart)} |`);
  }
  if (search) rows.push(`| \`bench:search\` | search re-ranking on the generator's search sessions: engine order, personal score, their blend | ${search.rows.map((r) => `noise ${r.engineNoise}: ${r.ndcg10.engine.toFixed(3)} / ${r.ndcg10.personal.toFixed(3)} / ${r.ndcg10.blend.toFixed(3)}`).join('; ')} (NDCG@10 engine / personal / blend) | ${date(search)} |`);
  const quality = load('quality');
  if (quality) rows.push(`| \`bench:quality\` | every model on ML-1M and Beauty, one protocol (leave-one-out, full ranking) | see RESULTS.md | ${date(quality)} |`);
  return rows.join('\n');
}

/** Replaces what lies between `begin` (a line starting with it) and `end` in `file`. */
function splice(file, begin, end, body) {
  const text = readFileSync(file, 'utf8');
  const i = text.indexOf(begin);
  const j = text.indexOf(end, i);
  if (i < 0 || j < 0) throw new Error(`${file} has no ${begin} ... ${end} markers`);
  const lineEnd = text.indexOf('\n', i);
  writeFileSync(file, `${text.slice(0, lineEnd + 1)}${body}\n${text.slice(j)}`);
}

splice(resultsMd, '<!-- BENCH:BEGIN', '<!-- BENCH:END -->', out.join('\n'));
writeFileSync(readme, replaceSection(readFileSync(readme, 'utf8'), 'bench-summary', summary(), 'README.md'));
console.log(`rendered ${out.length} lines into bench/RESULTS.md and the summary into README.md`);
