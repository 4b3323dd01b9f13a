/**
 * `npm run models -- list` and `npm run models -- rollback <version>`: the model store as the
 * trainer's HTTP API shows it, and an operator's promotion (docs/operations.md, "Rolling back a
 * model"). Talks to the trainer at `--url` (default SEQREC_TRAINER_URL, else http://localhost:8084)
 * with the admin key of SEQREC_ADMIN_KEY (sent as `x-api-key`; none when unset). Exit code 0 on
 * success, 1 when the trainer refuses or cannot be reached, 2 on bad arguments.
 *
 * - `list [--json]`: every model, its versions oldest first, the promoted one (`*`), whether an
 *   operator pinned it, and the versions that can no longer be promoted (`x`: trained before the
 *   latest user deletion).
 * - `rollback <version> [--model <m>]`: promotes a stored version and pins it, so that training
 *   runs do not replace it until an operator promotes again.
 * - `promote <version> [--model <m>]`: promotes without a pin: training runs promote a better
 *   version again (how a rollback is ended).
 */
import { parseArgs } from 'node:util';
import { EnvError, loadEnv, operatorCliEnv } from '@seqrec/config';
import type { ModelSummary } from '@seqrec/model-store';
import { modelsCliEnv } from './models.env';

// PROMOTION_METRIC of ../pipeline, which is not imported: it loads TensorFlow, and this CLI only talks HTTP
const PROMOTION_METRIC = 'valid.full.NDCG@10';

export const MODELS_USAGE = `usage: npm run models -- <command> [options]

commands:
  list                      the stored versions of every model and the promoted one
  rollback <version>        promote a stored version and pin it (training runs keep it)
  promote <version>         promote a stored version without a pin (training runs may replace it)

options:
  --model <name>            the model holding the version (only when several do)
  --url <url>               the trainer (default SEQREC_TRAINER_URL, else http://localhost:8084)
  --json                    print the trainer's answer as JSON
  -h, --help                this text

The admin key is read from SEQREC_ADMIN_KEY.`;

export interface ModelsCliIo {
  /** {@link modelsCliEnv}, validated (the tests leave it empty). */
  env: { SEQREC_TRAINER_URL?: string; SEQREC_ADMIN_KEY?: string };
  out: (text: string) => void;
  err: (text: string) => void;
  fetch?: typeof fetch;
}

/** Runs one command; resolves to the exit code. */
export async function runModelsCli(argv: string[], io: ModelsCliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        model: { type: 'string' },
        url: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    io.err(`models: ${(err as Error).message}\n${MODELS_USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(`${MODELS_USAGE}\n`);
    return 0;
  }
  const [command, version, ...rest] = positionals;
  const usage = (message: string) => {
    io.err(`models: ${message}\n${MODELS_USAGE}\n`);
    return 2;
  };
  if (command === undefined) return usage('a command is required');
  if (command === 'list') {
    if (version !== undefined) return usage(`list takes no argument, got "${version}"`);
  } else if (command === 'rollback' || command === 'promote') {
    if (version === undefined) return usage(`${command} needs a version (see \`models list\`)`);
    if (rest.length > 0) return usage(`unexpected argument "${rest[0]}"`);
  } else {
    return usage(`unknown command "${command}"`);
  }

  const base = (values.url ?? io.env.SEQREC_TRAINER_URL ?? 'http://localhost:8084').replace(/\/+$/, '');
  const key = io.env.SEQREC_ADMIN_KEY;
  const headers: Record<string, string> = { accept: 'application/json', ...(key ? { 'x-api-key': key } : {}) };
  const doFetch = io.fetch ?? fetch;
  let res: Response;
  try {
    res =
      command === 'list'
        ? await doFetch(`${base}/v1/models`, { headers })
        : await doFetch(`${base}/v1/models/${encodeURIComponent(version!)}/promote`, {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/json' },
            body: JSON.stringify({ pin: command === 'rollback', ...(values.model ? { model: values.model } : {}) }),
          });
  } catch (err) {
    const cause = (err as Error & { cause?: Error }).cause;
    io.err(`models: cannot reach the trainer at ${base}: ${cause?.message ?? (err as Error).message}\n`);
    return 1;
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  if (!res.ok) {
    const message = typeof body === 'object' && body !== null && 'message' in body ? String((body as { message: unknown }).message) : text;
    io.err(`models: the trainer answered ${res.status}: ${message}\n`);
    return 1;
  }
  if (values.json) {
    io.out(`${JSON.stringify(body, null, 2)}\n`);
    return 0;
  }
  if (command === 'list') {
    io.out(formatModels((body as { models: ModelSummary[] }).models));
    return 0;
  }
  const p = body as { model: string; version: string; previous: string | null; alreadyPromoted: boolean; pinned: boolean };
  io.out(
    p.alreadyPromoted
      ? `${p.model}/${p.version} was already the promoted version${p.pinned ? ' (pinned)' : ' (not pinned)'}; announced again\n`
      : `${p.model}/${p.version} promoted${p.pinned ? ' and pinned' : ''} (was ${p.previous ?? 'none'}); every scorer and embedding instance loads it\n`,
  );
  return 0;
}

/** The `list` table: one block per model, versions oldest first. */
export function formatModels(models: readonly ModelSummary[]): string {
  if (models.length === 0) return 'no model in the store\n';
  const lines: string[] = [];
  for (const m of models) {
    const pin = m.pinned ? `, pinned since ${m.pinned.at} (training runs keep it)` : '';
    lines.push(`${m.model}: promoted ${m.current ?? 'none'}${pin}`);
    const rows = m.versions.map((v) => [
      v.current ? '*' : v.promotable === false ? 'x' : ' ',
      v.version,
      v.dataAt ?? v.createdAt,
      v.metrics[PROMOTION_METRIC] === undefined ? '-' : v.metrics[PROMOTION_METRIC]!.toFixed(4),
      v.data,
    ]);
    const head = [' ', 'VERSION', 'DATA READ AT', 'VALID NDCG@10', 'DATA'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of [head, ...rows]) lines.push(`  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`.trimEnd());
  }
  lines.push('', '* promoted   x trained before the latest user deletion: can be neither promoted nor served');
  return `${lines.join('\n')}\n`;
}

if (require.main === module) {
  let env;
  try {
    env = loadEnv({ ...modelsCliEnv, ...operatorCliEnv });
  } catch (err) {
    if (!(err instanceof EnvError)) throw err;
    process.stderr.write(`models: ${err.message}\n`);
    process.exit(2);
  }
  void runModelsCli(process.argv.slice(2), {
    env,
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
  }).then((code) => {
    process.exitCode = code;
  });
}
