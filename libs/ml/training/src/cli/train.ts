/**
 * `npm run train -- --data <path> --format <fmt> --model <kind> [...]`: trains one model, prints
 * the metrics table (dataset, split, protocol, model, backend in the params), writes a versioned
 * artifact with `metrics.json` and `report.html` into the model store (`--out`, default
 * `./model-store`), promotes it with `--promote` when its validation NDCG@10 beats the promoted
 * version's, and writes the whole result as JSON with `--json <file>`. Exit code 2 on bad
 * arguments, 1 on a failed run. Run with `--help` for every option.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { formatResultTable } from '../report';
import { FsModelStore } from '@seqrec/model-store';
import { TrainingPipeline } from '../pipeline';
import { TRAIN_USAGE, UsageError, parseTrainArgs } from './args';

async function main(): Promise<void> {
  let args;
  try {
    args = parseTrainArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`train: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (args.help) {
    process.stdout.write(`${TRAIN_USAGE}\n`);
    return;
  }
  const log = (msg: string) => {
    if (!args.quiet) process.stderr.write(`[train] ${msg}\n`);
  };
  const store = new FsModelStore(resolve(args.out));
  const result = await new TrainingPipeline(store).run({
    source: args.source,
    model: args.model,
    options: args.options,
    ...(args.name ? { name: args.name } : {}),
    promote: args.promote,
    warmStart: args.warmStart,
    progress: args.quiet ? false : process.stderr,
    log,
  });
  process.stdout.write(`${formatResultTable(result.rows)}\n\n`);
  process.stdout.write(
    `backend ${result.backend} (${result.backendVersion}); ${result.epochs.length ? `${result.epochs.length} epoch(s), best ${result.bestEpoch ?? '-'}; ` : ''}` +
      `artifact ${result.location} (metrics.json, report.html); ${result.promoted ? 'PROMOTED' : 'not promoted'}: ${result.promotion.reason}\n`,
  );
  if (args.json) {
    mkdirSync(dirname(resolve(args.json)), { recursive: true });
    writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
    log(`result written to ${resolve(args.json)}`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`train: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
