/**
 * Arguments of `npm run train` (see {@link TRAIN_USAGE}), read with node's `util.parseArgs`.
 * Parsing is separate from the CLI so it can be tested; every problem is reported at once in one
 * {@link UsageError}.
 */
import { commonEnv, loadEnv } from '@seqrec/config';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DATASET_FORMATS, datasetPath, KNOWN_DATASETS, TABLE_FORMATS, TIME_FORMATS, mappingProblems, type ColumnMapping, type DatasetFormat, type TableFormat, type TimeFormat } from '@seqrec/datasets';
import { EVENT_TYPES, type EventType } from '@seqrec/contracts';
import { LOSS_KINDS, type LossKind } from '@seqrec/model';
import { TRAINABLE_MODELS, isTrainableModel, type PromotionMode, type TrainableModel, type TrainingOptions } from '../pipeline';
import type { DataSource } from '../sources';
import { SeqrecError } from '@seqrec/contracts';

export const TRAIN_FORMATS = [...DATASET_FORMATS, 'auto', 'kafka'] as const;
export type TrainFormat = (typeof TRAIN_FORMATS)[number];

export const TRAIN_USAGE = `usage: npm run train -- --data <path|dataset key|brokers> --format ${TRAIN_FORMATS.join('|')} --model ${TRAINABLE_MODELS.join('|')}
  [--epochs N] [--batch-size N] [--lr X] [--loss ${LOSS_KINDS.join('|')}] [--negatives N] [--max-len N] [--dim N]
  [--seed N] [--patience N] [--valid-users N] [--eval-users N] [--max-batches N] [--max-minutes X] [--index-lists N] [--index-probes N] [--min-length N] [--arch key=value,...] [--params key=value,...]
  [--out <model store dir>] [--name <artifact name>] [--promote] [--warm-start] [--json <file>] [--quiet]
  kafka: [--from <ISO time>] [--to <ISO time>] [--namespace <ns>] [--topic <topic>]; --data or KAFKA_BROKERS gives the brokers
  ${TABLE_FORMATS.join('|')} (your own export): --columns user=<col>|session=<col>,item=<col>[,time=<col>][,type=<col>][,category=<col>]
    [--time-format ${TIME_FORMATS.join('|')}] [--types <raw>=<event type>|drop,...] [--header true|false] [--delimiter <char>] [--group-by user|session]
    <col> is a header name (a JSON key, dotted for nested, for jsonl) or a 0-based positionDataset keys: ${Object.keys(KNOWN_DATASETS).join(', ')}.`;

export class UsageError extends SeqrecError {
  constructor(readonly problems: string[]) {
    super(`${problems.join('\n')}\n\n${TRAIN_USAGE}`, { retriable: false });
    this.name = 'UsageError';
  }
}

export interface TrainArgs {
  source: DataSource;
  model: TrainableModel;
  options: Partial<TrainingOptions>;
  out: string;
  name?: string;
  promote: PromotionMode;
  warmStart: boolean;
  json?: string;
  quiet: boolean;
  help: boolean;
}

const VALUE_FLAGS = [
  'data', 'format', 'model', 'epochs', 'batch-size', 'lr', 'loss', 'negatives', 'max-len', 'dim', 'seed',
  'patience', 'valid-users', 'eval-users', 'max-batches', 'max-minutes', 'index-lists', 'index-probes', 'min-length', 'arch', 'params', 'out', 'name', 'json', 'from',
  'to', 'namespace', 'topic', 'columns', 'types', 'time-format', 'header', 'delimiter', 'group-by',
] as const;
const BOOL_FLAGS = ['promote', 'warm-start', 'quiet', 'help'] as const;
const OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  ...Object.fromEntries(VALUE_FLAGS.map((f) => [f, { type: 'string' as const }])),
  ...Object.fromEntries(BOOL_FLAGS.map((f) => [f, { type: 'boolean' as const }])),
  help: { type: 'boolean', short: 'h' },
};

/**
 * `argv` read by node's `util.parseArgs` without stopping at the first problem: values by flag
 * (`--name`), the boolean flags given, and every problem (an unknown option, a value missing).
 * A value flag followed by another flag has no value: that flag is read again as a flag.
 */
function readFlags(argv: readonly string[], problems: string[]): { v: Map<string, string>; flags: Set<string> } {
  const v = new Map<string, string>();
  const flags = new Set<string>();
  let rest = argv.slice();
  for (;;) {
    const { tokens } = parseArgs({ args: rest, options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
    let again = -1;
    for (const t of tokens) {
      if (t.kind !== 'option') {
        problems.push(`unknown option ${t.kind === 'positional' ? t.value : '--'}`);
        continue;
      }
      const type = OPTIONS[t.name]?.type;
      if (type === 'boolean') flags.add(`--${t.name}`);
      else if (type === 'string') {
        if (t.value === undefined || (!t.inlineValue && t.value.startsWith('--'))) {
          problems.push(`${t.rawName} needs a value`);
          if (t.value !== undefined) {
            again = t.index + 1;
            break;
          }
        } else v.set(`--${t.name}`, t.value);
      } else problems.push(`unknown option ${t.inlineValue ? `${t.rawName}=${t.value}` : t.rawName}`);
    }
    if (again < 0) return { v, flags };
    rest = rest.slice(again);
  }
}

const MAPPING_FLAGS = ['--columns', '--types', '--time-format', '--header', '--delimiter', '--group-by'] as const;
const COLUMN_KEYS = new Set(['user', 'session', 'item', 'time', 'type', 'category']);

/** The column mapping of a csv/tsv/jsonl export from `--columns` and its companions; problems added. */
function columnMapping(v: Map<string, string>, format: TrainFormat, problems: string[]): Omit<ColumnMapping, 'format'> | undefined {
  if (!(TABLE_FORMATS as readonly string[]).includes(format)) {
    for (const f of MAPPING_FLAGS) if (v.has(f)) problems.push(`${f} only applies to --format ${TABLE_FORMATS.join('|')}`);
    return undefined;
  }
  const cols = v.get('--columns');
  if (cols === undefined) {
    problems.push(`--format ${format as TableFormat} needs --columns (e.g. user=user_id,item=item_id,time=ts)`);
    return undefined;
  }
  const mapping: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(parseKv(cols, '--columns', problems))) {
    if (!COLUMN_KEYS.has(k)) problems.push(`--columns: unknown key "${k}", expected ${[...COLUMN_KEYS].join('|')}`);
    else mapping[k] = typeof val === 'number' ? val : String(val);
  }
  if (v.has('--types')) {
    const types: Record<string, EventType | null> = {};
    for (const [raw, t] of Object.entries(parseKv(v.get('--types')!, '--types', problems))) {
      if (t === 'drop') types[raw] = null;
      else if ((EVENT_TYPES as readonly unknown[]).includes(t)) types[raw] = t as EventType;
      else problems.push(`--types: ${raw}=${String(t)}: expected one of ${EVENT_TYPES.join('|')} or drop`);
    }
    mapping['types'] = types;
  }
  const timeFormat = v.get('--time-format');
  if (timeFormat !== undefined) mapping['timeFormat'] = timeFormat as TimeFormat;
  const header = v.get('--header');
  if (header !== undefined) {
    if (header !== 'true' && header !== 'false') problems.push(`--header must be true or false, got "${header}"`);
    mapping['header'] = header === 'true';
  }
  if (v.has('--delimiter')) mapping['delimiter'] = v.get('--delimiter') === '\\t' ? '\t' : v.get('--delimiter');
  if (v.has('--group-by')) mapping['groupBy'] = v.get('--group-by');
  const m = mapping as unknown as Omit<ColumnMapping, 'format'>;
  if (m.groupBy !== undefined && m.groupBy !== 'user' && m.groupBy !== 'session') problems.push(`--group-by must be user or session, got "${String(m.groupBy)}"`);
  problems.push(...mappingProblems(m).map((p) => `--columns: ${p}`));
  return m;
}

/**
 * `key=value,...` → an object (numbers and booleans converted): the trainer's `--arch` / `--params`
 * and TRAIN_ARCH / TRAIN_PARAMS. Malformed parts are added to `problems`, naming `flag`.
 */
export function parseKv(s: string, flag: string, problems: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const part of s.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) {
      problems.push(`${flag}: expected key=value pairs separated by commas, got "${part}"`);
      continue;
    }
    const v = part.slice(eq + 1);
    out[part.slice(0, eq)] = v === 'true' ? true : v === 'false' ? false : v !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
  }
  return out;
}

/**
 * Parses `argv` (without node and script); `env` supplies KAFKA_BROKERS / KAFKA_NAMESPACE (default:
 * the process environment's).
 */
export function parseTrainArgs(
  argv: readonly string[],
  env: { KAFKA_BROKERS?: string; KAFKA_NAMESPACE?: string } = loadEnv({ KAFKA_BROKERS: commonEnv.KAFKA_BROKERS, KAFKA_NAMESPACE: commonEnv.KAFKA_NAMESPACE }),
): TrainArgs {
  const problems: string[] = [];
  const { v, flags } = readFlags(argv, problems);
  const help = flags.has('--help');
  const int = (flag: string, min = 1): number | undefined => {
    const s = v.get(flag);
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!Number.isInteger(n) || n < min) {
      problems.push(`${flag} must be an integer >= ${min}, got "${s}"`);
      return undefined;
    }
    return n;
  };
  const time = (flag: string): number | undefined => {
    const s = v.get(flag);
    if (s === undefined) return undefined;
    const t = Date.parse(s);
    if (!Number.isFinite(t)) {
      problems.push(`${flag} must be an ISO-8601 time (e.g. 2026-11-01T00:00:00Z), got "${s}"`);
      return undefined;
    }
    return t;
  };

  const modelRaw = v.get('--model');
  if (!help && modelRaw === undefined) problems.push(`--model is required (${TRAINABLE_MODELS.join('|')})`);
  else if (modelRaw !== undefined && !isTrainableModel(modelRaw)) problems.push(`--model must be one of ${TRAINABLE_MODELS.join('|')}, got "${modelRaw}"`);
  const format = (v.get('--format') ?? 'auto') as TrainFormat;
  if (!(TRAIN_FORMATS as readonly string[]).includes(format)) problems.push(`--format must be one of ${TRAIN_FORMATS.join('|')}, got "${format}"`);
  const loss = v.get('--loss') as LossKind | undefined;
  if (loss !== undefined && !LOSS_KINDS.includes(loss)) problems.push(`--loss must be one of ${LOSS_KINDS.join('|')}, got "${loss}"`);
  const lrRaw = v.get('--lr');
  const lr = lrRaw === undefined ? undefined : Number(lrRaw);
  if (lr !== undefined && !(lr > 0)) problems.push(`--lr must be a number > 0, got "${lrRaw}"`);
  const maxMinutesRaw = v.get('--max-minutes');
  const maxMinutes = maxMinutesRaw === undefined ? undefined : Number(maxMinutesRaw);
  if (maxMinutes !== undefined && !(maxMinutes > 0)) problems.push(`--max-minutes must be a number > 0, got "${maxMinutesRaw}"`);

  const from = time('--from');
  const to = time('--to');
  if (from !== undefined && to !== undefined && from >= to) problems.push(`--from (${v.get('--from')}) must be before --to (${v.get('--to')})`);
  let source: DataSource | undefined;
  const data = v.get('--data');
  if (format === 'kafka') {
    const brokers = (data ?? env['KAFKA_BROKERS'] ?? '').split(',').map((b) => b.trim()).filter(Boolean);
    if (brokers.length === 0 && !help) problems.push('--format kafka needs brokers: --data host:port[,host:port] or KAFKA_BROKERS');
    const namespace = v.get('--namespace') ?? env['KAFKA_NAMESPACE'] ?? '';
    source = {
      kind: 'kafka',
      brokers,
      ...(namespace ? { namespace } : {}),
      ...(v.get('--topic') ? { topic: v.get('--topic')! } : {}),
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
    };
  } else {
    for (const f of ['--from', '--to', '--namespace', '--topic']) if (v.has(f)) problems.push(`${f} only applies to --format kafka`);
    if (data === undefined && !help) problems.push('--data is required: a dataset file or a dataset key');
    const columns = columnMapping(v, format, problems);
    if (data !== undefined) {
      const known = KNOWN_DATASETS[data];
      source = {
        kind: 'file',
        path: datasetPath(data),
        format: (known && format === 'auto' ? known.format : format) as DatasetFormat | 'auto',
        ...(known ? { name: known.name } : {}),
        ...(columns ? { columns } : {}),
      };
    }
  }
  const arch = v.has('--arch') ? parseKv(v.get('--arch')!, '--arch', problems) : undefined;
  const params = v.has('--params') ? parseKv(v.get('--params')!, '--params', problems) : undefined;
  const options: Partial<TrainingOptions> = {};
  const set = <K extends keyof TrainingOptions>(k: K, val: TrainingOptions[K] | undefined) => {
    if (val !== undefined) options[k] = val;
  };
  set('epochs', int('--epochs'));
  set('batchSize', int('--batch-size'));
  set('lr', lr);
  set('loss', loss);
  set('negatives', int('--negatives'));
  set('maxLen', int('--max-len'));
  set('dim', int('--dim'));
  set('seed', int('--seed', 0));
  set('patience', int('--patience'));
  set('validUsers', int('--valid-users', 0));
  set('evalUsers', int('--eval-users', 0));
  set('maxBatchesPerEpoch', int('--max-batches'));
  set('maxMinutes', maxMinutes);
  set('indexLists', int('--index-lists'));
  set('indexProbes', int('--index-probes'));
  set('minLength', int('--min-length', 3));
  set('architecture', arch);
  set('baseline', params);

  if (problems.length > 0) throw new UsageError(problems);
  return {
    source: source ?? { kind: 'file', path: '', format: 'auto' },
    model: (modelRaw ?? 'sasrec') as TrainableModel,
    options,
    out: v.get('--out') ?? 'model-store',
    ...(v.has('--name') ? { name: v.get('--name')! } : {}),
    promote: flags.has('--promote') ? 'if-better' : 'never',
    warmStart: flags.has('--warm-start'),
    ...(v.has('--json') ? { json: v.get('--json')! } : {}),
    quiet: flags.has('--quiet'),
    help,
  };
}
