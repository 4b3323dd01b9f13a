import { parseArgs } from 'node:util';
import { loadEnv, str } from '@seqrec/config';
import { TOPICS } from '@seqrec/contracts';
import { MALFORMED_KINDS, type GeneratorOptions } from './options';
import { KAFKA_COMPRESSIONS, type KafkaCompression } from './sinks';
import { SeqrecError } from '@seqrec/contracts';

export type SinkKind = 'stdout' | 'kafka' | 'http';
export type HttpFormat = 'json' | 'ndjson';

/** Everything the CLI needs, parsed and validated. */
export interface CliConfig {
  /** Stop after this many records (all kinds); undefined when only a duration is given. */
  events: number | undefined;
  /** Stop after this many wall-clock seconds. */
  durationS: number | undefined;
  /** Target records per second; 0 = as fast as possible. */
  rate: number;
  /** Records per write / sendBatch / POST. */
  batch: number;
  sink: SinkKind;
  brokers: string[];
  topic: string;
  clientId: string;
  /** Codec of the batches the Kafka sink produces. */
  compression: KafkaCompression;
  url: string;
  httpFormat: HttpFormat;
  /** `auto`: end the simulated stream near the current time. */
  start: 'auto' | number;
  generator: GeneratorOptions;
}

export const USAGE = `Usage: node libs/ml/generator/dist/cli.js [options]

Writes a seeded synthetic clickstream (RawEvent v1) to stdout, Kafka or the ingester's HTTP API.
A JSON summary goes to stderr at the end (also on Ctrl-C).

  --events N           records to send (default 100000 unless --duration is given)
  --duration S         stop after S seconds of wall-clock time
  --rate R             records per second, 0 = as fast as possible (default 0)
  --sink S             stdout | kafka | http (default stdout)
  --batch B            records per write/sendBatch/POST (default stdout 1000, kafka 2000, http 500)
  --brokers LIST       Kafka brokers host:port[,host:port] (default env KAFKA_BROKERS, else 127.0.0.1:19092)
  --topic T            Kafka topic (default ${TOPICS.CLICKSTREAM_RAW})
  --client-id ID       Kafka client id (default seqrec-generator)
  --compression C      Kafka batch codec: none | gzip | snappy | lz4 | zstd (default env
                       KAFKA_COMPRESSION, else none)
  --url U              HTTP endpoint (default http://127.0.0.1:8081/v1/events)
  --http-format F      json (a JSON array per POST) | ndjson (one event per line) (default json;
                       json leaves out the invalid_json malformation, which cannot sit in an array)
  --seed S             seed, number or text (default 42)
  --users N            users (default 10000)
  --items N            items (default 5000)
  --categories N       categories (default 50)
  --zipf S             popularity exponent (default 1.1)
  --transition-prob P  probability of following the current item's transitions (default 0.65)
  --start T            first timestamp: auto (stream ends near now) | now | ISO-8601 | epoch ms (default auto)
  --iso-rate P         share of events with ISO-8601 timestamps (default 0)
  --id-prefix P        event id prefix (default derived from the seed)
  --dup-rate P         share of duplicate records (default 0)
  --malformed-rate P   share of malformed records (default 0)
  --late-rate P        share of late records (default 0)
  --no-context         leave out context { device, page }
  -h, --help           this text
`;

/** Thrown for bad command lines; the CLI prints the message and the usage. */
export class CliUsageError extends SeqrecError {
  constructor(message: string) {
    super(message, { retriable: false });
    this.name = 'CliUsageError';
  }
}

const DEFAULT_BATCH: Record<SinkKind, number> = { stdout: 1_000, kafka: 2_000, http: 500 };

/** Variables the CLI falls back on when their flag is missing; unset, the CLI's own defaults apply. */
const cliEnv = {
  KAFKA_BROKERS: str({ default: undefined, desc: 'brokers when --brokers is missing (default 127.0.0.1:19092)' }),
  KAFKA_COMPRESSION: str({ default: undefined, desc: 'codec when --compression is missing (default none)' }),
};

/**
 * Parses argv (without node and the script) into a {@link CliConfig}; `undefined` when help was
 * asked for. `env`: the fallback variables, default those of the process environment.
 */
export function parseCliArgs(argv: string[], env: { KAFKA_BROKERS?: string; KAFKA_COMPRESSION?: string } = loadEnv(cliEnv)): CliConfig | undefined {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        events: { type: 'string' },
        duration: { type: 'string' },
        rate: { type: 'string' },
        sink: { type: 'string' },
        batch: { type: 'string' },
        brokers: { type: 'string' },
        topic: { type: 'string' },
        'client-id': { type: 'string' },
        compression: { type: 'string' },
        url: { type: 'string' },
        'http-format': { type: 'string' },
        seed: { type: 'string' },
        users: { type: 'string' },
        items: { type: 'string' },
        categories: { type: 'string' },
        zipf: { type: 'string' },
        'transition-prob': { type: 'string' },
        start: { type: 'string' },
        'iso-rate': { type: 'string' },
        'id-prefix': { type: 'string' },
        'dup-rate': { type: 'string' },
        'malformed-rate': { type: 'string' },
        'late-rate': { type: 'string' },
        'no-context': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new CliUsageError((err as Error).message);
  }
  if (values.help) return undefined;

  const errors: string[] = [];
  const num = (name: string, raw: string | undefined, check: (n: number) => boolean, what: string): number | undefined => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || !check(n)) {
      errors.push(`--${name} must be ${what}, got ${JSON.stringify(raw)}`);
      return undefined;
    }
    return n;
  };
  const posInt = (n: number): boolean => Number.isSafeInteger(n) && n > 0;
  const rate01 = (n: number): boolean => n >= 0 && n < 1;

  const sink = (values.sink ?? 'stdout') as SinkKind;
  if (!['stdout', 'kafka', 'http'].includes(sink)) errors.push(`--sink must be stdout, kafka or http, got ${JSON.stringify(values.sink)}`);
  const httpFormat = (values['http-format'] ?? 'json') as HttpFormat;
  if (!['json', 'ndjson'].includes(httpFormat)) errors.push(`--http-format must be json or ndjson, got ${JSON.stringify(httpFormat)}`);

  const eventsArg = num('events', values.events, (n) => Number.isSafeInteger(n) && n >= 0, 'an integer >= 0');
  const durationS = num('duration', values.duration, (n) => n > 0, 'a number of seconds > 0');
  const rate = num('rate', values.rate, (n) => n >= 0, 'a number >= 0') ?? 0;
  const batch = num('batch', values.batch, posInt, 'a positive integer') ?? DEFAULT_BATCH[sink] ?? 1_000;

  let start: 'auto' | number = 'auto';
  const startRaw = values.start ?? 'auto';
  if (startRaw === 'now') start = Date.now();
  else if (startRaw !== 'auto') {
    start = /^\d+$/.test(startRaw) ? Number(startRaw) : Date.parse(startRaw);
    if (!Number.isSafeInteger(start)) errors.push(`--start must be auto, now, an ISO-8601 date or epoch ms, got ${JSON.stringify(startRaw)}`);
  }

  const brokersRaw = values.brokers ?? env.KAFKA_BROKERS ?? '127.0.0.1:19092';
  const brokers = brokersRaw.split(',').map((b) => b.trim()).filter((b) => b.length > 0);
  if (sink === 'kafka' && (brokers.length === 0 || brokers.some((b) => !/^[^\s:]+:\d+$/.test(b)))) {
    errors.push(`--brokers must be host:port[,host:port], got ${JSON.stringify(brokersRaw)}`);
  }
  const compression = (values.compression ?? env.KAFKA_COMPRESSION ?? 'none') as KafkaCompression;
  if (!KAFKA_COMPRESSIONS.includes(compression)) {
    errors.push(`--compression must be one of ${KAFKA_COMPRESSIONS.join(', ')}, got ${JSON.stringify(compression)}`);
  }
  const url = values.url ?? 'http://127.0.0.1:8081/v1/events';
  if (sink === 'http' && !/^https?:\/\/\S+$/.test(url)) errors.push(`--url must be an http(s) URL, got ${JSON.stringify(url)}`);

  const generator: GeneratorOptions = {};
  if (values.seed !== undefined) generator.seed = /^-?\d+$/.test(values.seed) ? Number(values.seed) : values.seed;
  const users = num('users', values.users, posInt, 'a positive integer');
  if (users !== undefined) generator.users = users;
  const items = num('items', values.items, (n) => Number.isSafeInteger(n) && n >= 2, 'an integer >= 2');
  if (items !== undefined) generator.items = items;
  const categories = num('categories', values.categories, posInt, 'a positive integer');
  if (categories !== undefined) generator.categories = categories;
  const zipf = num('zipf', values.zipf, (n) => n >= 0 && n <= 5, 'in [0, 5]');
  if (zipf !== undefined) generator.zipfExponent = zipf;
  const tp = num('transition-prob', values['transition-prob'], (n) => n >= 0 && n <= 1, 'in [0, 1]');
  if (tp !== undefined) generator.transitionProb = tp;
  const iso = num('iso-rate', values['iso-rate'], (n) => n >= 0 && n <= 1, 'in [0, 1]');
  if (iso !== undefined) generator.isoTimestampRate = iso;
  if (values['id-prefix'] !== undefined) generator.idPrefix = values['id-prefix'];
  const dup = num('dup-rate', values['dup-rate'], rate01, 'in [0, 1)');
  if (dup !== undefined) generator.duplicateRate = dup;
  const mal = num('malformed-rate', values['malformed-rate'], rate01, 'in [0, 1)');
  if (mal !== undefined) generator.malformedRate = mal;
  const late = num('late-rate', values['late-rate'], rate01, 'in [0, 1)');
  if (late !== undefined) generator.lateRate = late;
  if (values['no-context']) generator.context = false;
  if (sink === 'http' && httpFormat === 'json') generator.malformedKinds = MALFORMED_KINDS.filter((k) => k !== 'invalid_json');

  if (errors.length > 0) throw new CliUsageError(errors.join('\n'));
  return {
    events: eventsArg ?? (durationS === undefined ? 100_000 : undefined),
    durationS,
    rate,
    batch,
    sink,
    brokers,
    topic: values.topic ?? TOPICS.CLICKSTREAM_RAW,
    clientId: values['client-id'] ?? 'seqrec-generator',
    compression,
    url,
    httpFormat,
    start,
    generator,
  };
}

/**
 * Records per batch: the configured size, but small enough at low rates that pacing stays smooth
 * (about 20 batches a second).
 */
export function effectiveBatch(config: Pick<CliConfig, 'batch' | 'rate'>): number {
  return config.rate > 0 ? Math.max(1, Math.min(config.batch, Math.ceil(config.rate / 20))) : config.batch;
}
