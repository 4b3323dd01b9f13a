/**
 * `npm run experiments -- <command>`: an operator's experiments through the scorer's API
 * (docs/experiments.md). Talks to the scorer at `--url` (default SEQREC_SCORER_URL, else
 * http://localhost:8080) with the admin key of SEQREC_ADMIN_KEY (sent as `x-api-key`). Exit code 0
 * on success, 1 when the scorer refuses or cannot be reached, 2 on bad arguments.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EnvError, loadEnv, operatorCliEnv } from '@seqrec/config';
import type { ExperimentRecord } from '../store';
import type { ExperimentReport } from '../report';
import { experimentsCliEnv } from './experiments.env';

export const EXPERIMENTS_USAGE = `usage: npm run experiments -- <command> [options]

commands:
  list                      the active experiment and every experiment started
  start <id> <file.json>    start (or change) the active experiment: variants, shares, models ("-": stdin)
  stop <id>                 stop it: every answer comes from the served model again
  report <id>               per-variant CTR@K, conversion, revenue, each variant against the control
                            (always-valid p-values: read it as often as you like)

options:
  --url <url>               the scorer (default SEQREC_SCORER_URL, else http://localhost:8080)
  --json                    print the scorer's answer as JSON
  -h, --help                this text

The admin key is read from SEQREC_ADMIN_KEY.`;

export interface ExperimentsCliIo {
  env: { SEQREC_SCORER_URL?: string; SEQREC_ADMIN_KEY?: string };
  out: (text: string) => void;
  err: (text: string) => void;
  fetch?: typeof fetch;
  readFile?: (path: string) => string;
}

/** Runs one command; resolves to the exit code. */
export async function runExperimentsCli(argv: string[], io: ExperimentsCliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { url: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
    });
  } catch (err) {
    io.err(`experiments: ${(err as Error).message}\n${EXPERIMENTS_USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(`${EXPERIMENTS_USAGE}\n`);
    return 0;
  }
  const usage = (message: string) => {
    io.err(`experiments: ${message}\n${EXPERIMENTS_USAGE}\n`);
    return 2;
  };
  const [command, id, file, ...rest] = positionals;
  const arity: Record<string, number> = { list: 0, start: 2, stop: 1, report: 1 };
  if (command === undefined) return usage('a command is required');
  if (!(command in arity)) return usage(`unknown command "${command}"`);
  const args = [id, file, ...rest].filter((a) => a !== undefined);
  if (args.length !== arity[command]) return usage(`${command} takes ${arity[command]} argument(s), got ${args.length}`);

  let body: string | undefined;
  if (command === 'start') {
    try {
      body = (io.readFile ?? ((p) => readFileSync(p === '-' ? 0 : p, 'utf8')))(file!);
      JSON.parse(body);
    } catch (err) {
      return usage(`${file}: not a readable JSON file (${(err as Error).message})`);
    }
  }
  const base = (values.url ?? io.env.SEQREC_SCORER_URL ?? 'http://localhost:8080').replace(/\/+$/, '');
  const key = io.env.SEQREC_ADMIN_KEY;
  const headers: Record<string, string> = { accept: 'application/json', ...(key ? { 'x-api-key': key } : {}) };
  const path = { list: '/v1/experiments', start: `/v1/experiments/${encodeURIComponent(id ?? '')}`, stop: `/v1/experiments/${encodeURIComponent(id ?? '')}`, report: `/v1/experiments/${encodeURIComponent(id ?? '')}/report` }[command]!;
  const method = { list: 'GET', start: 'PUT', stop: 'DELETE', report: 'GET' }[command]!;
  let res: Response;
  try {
    res = await (io.fetch ?? fetch)(`${base}${path}`, { method, headers: body ? { ...headers, 'content-type': 'application/json' } : headers, ...(body ? { body } : {}) });
  } catch (err) {
    const cause = (err as Error & { cause?: Error }).cause;
    io.err(`experiments: cannot reach the scorer at ${base}: ${cause?.message ?? (err as Error).message}\n`);
    return 1;
  }
  const text = await res.text();
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    answer = text;
  }
  if (!res.ok) {
    const message = typeof answer === 'object' && answer !== null && 'message' in answer ? String((answer as { message: unknown }).message) : text;
    io.err(`experiments: the scorer answered ${res.status}: ${message}\n`);
    return 1;
  }
  if (values.json) {
    io.out(`${JSON.stringify(answer, null, 2)}\n`);
    return 0;
  }
  if (command === 'list') io.out(formatList(answer as { active: ExperimentRecord | null; inForce: string | null; experiments: ExperimentRecord[] }));
  else if (command === 'start') {
    const r = answer as ExperimentRecord & { inForce: boolean; loadError?: string };
    io.out(`${r.config.id} started ${new Date(r.startedAt).toISOString()}; ${r.inForce ? 'in force on this scorer' : `not yet in force here${r.loadError ? ` (${r.loadError})` : ''}`}; the others follow within SCORER_EXPERIMENT_POLL_MS\n`);
  } else if (command === 'stop') io.out(`${id} stopped\n`);
  else io.out(formatReport(answer as ReportAnswer));
  return 0;
}

function formatList(a: { active: ExperimentRecord | null; inForce: string | null; experiments: ExperimentRecord[] }): string {
  if (a.experiments.length === 0) return 'no experiment was started\n';
  const lines = [`active: ${a.active?.config.id ?? 'none'} (in force on this scorer: ${a.inForce ?? 'none'})`];
  for (const r of a.experiments) {
    const variants = r.config.variants.map((v) => `${v.name} ${v.share}${v.model ? ` → ${v.model.name}${v.model.version ? `@${v.model.version}` : ''}` : ''}`).join(', ');
    lines.push(`  ${r.config.id}  ${new Date(r.startedAt).toISOString()} – ${r.stoppedAt ? new Date(r.stoppedAt).toISOString() : 'running'}  ${variants}${r.config.holdout ? `, holdout ${r.config.holdout}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

interface ReportAnswer {
  experiment: string;
  k: number;
  report: Omit<ExperimentReport, 'state'>;
}

/** Bounds of an interval may be null in the answer (JSON has no infinity): unbounded, too little data yet. */
type Num = number | null;
const pct = (x: Num) => (x === null ? '?' : `${(100 * x).toFixed(2)}%`);
const dec = (x: Num) => (x === null ? '?' : x.toFixed(3));
/** A rate lies in [0, 1]: its normal-approximation bounds are shown clipped there (coverage is unchanged). */
const clip01 = (x: Num) => (x === null ? null : Math.min(1, Math.max(0, x)));
const range = (f: (x: Num) => string, lo: Num, hi: Num) => (lo === null || hi === null ? 'unbounded yet' : `[${f(lo)}, ${f(hi)}]`);

/** The report as a table: one row per variant, one per comparison, the winner and the method. */
export function formatReport(a: ReportAnswer): string {
  const r = a.report;
  const head = ['VARIANT', 'IMPRESSIONS', `CTR@${a.k}`, 'CONVERSION', 'REVENUE/IMPRESSION', 'MEAN CLICK POSITION'];
  const rows = r.variants.map((v) => [
    v.name + (v.name === r.control ? ' (control)' : ''),
    String(v.impressions),
    `${pct(v.ctr.mean)} ${range(pct, clip01(v.ctr.low), clip01(v.ctr.high))}`,
    `${pct(v.conversion.mean)} ${range(pct, clip01(v.conversion.low), clip01(v.conversion.high))}`,
    `${dec(v.revenuePerImpression.mean)} ${range(dec, v.revenuePerImpression.low, v.revenuePerImpression.high)}`,
    v.meanClickPosition === null ? '-' : v.meanClickPosition.toFixed(2),
  ]);
  const table = (h: string[], body: string[][]) => {
    const w = h.map((x, i) => Math.max(x.length, ...body.map((b) => b[i]!.length)));
    return [h, ...body].map((b) => `  ${b.map((c, i) => c.padEnd(w[i]!)).join('  ')}`.trimEnd());
  };
  const cmp = r.comparisons.map((c) => {
    const f = c.metric === 'revenue' ? dec : pct;
    const p = c.p as Num;
    return [`${c.variant} − ${r.control}`, c.metric, f(c.difference), range(f, c.low, c.high), p === null ? '?' : p < 1e-4 ? p.toExponential(1) : p.toFixed(4), c.significant ? 'yes' : 'no'];
  });
  return [
    `experiment ${a.experiment}: winner ${r.winner ?? 'none yet'} (decided on ${r.primary})`,
    ...table(head, rows),
    '',
    ...table(['COMPARISON', 'METRIC', 'DIFFERENCE', 'CONFIDENCE SEQUENCE', 'P (ALWAYS VALID)', 'SIGNIFICANT'], cmp),
    '',
    `method: ${r.method}`,
    '',
  ].join('\n');
}

if (require.main === module) {
  let env;
  try {
    env = loadEnv({ ...experimentsCliEnv, ...operatorCliEnv });
  } catch (err) {
    if (!(err instanceof EnvError)) throw err;
    process.stderr.write(`experiments: ${err.message}\n`);
    process.exit(2);
  }
  void runExperimentsCli(process.argv.slice(2), { env, out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }).then((code) => {
    process.exitCode = code;
  });
}
