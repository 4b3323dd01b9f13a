import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVENT_TYPES } from '@seqrec/contracts';
import { UsageError, parseTrainArgs } from './args';

function problems(argv: string[], env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseTrainArgs(argv, env);
  } catch (err) {
    assert.ok(err instanceof UsageError, String(err));
    return err.problems;
  }
  assert.fail('expected a UsageError');
}

describe(parseTrainArgs.name, () => {
  it('parses a file run with options', () => {
    const a = parseTrainArgs(['--data', '/d/ml.txt', '--format', 'sasrec', '--model', 'gru4rec', '--epochs', '3', '--lr=0.01', '--max-minutes', '1.5', '--arch', 'units=32,dropout=0.3', '--promote', '--json', 'out.json']);
    assert.deepEqual(a.source, { kind: 'file', path: '/d/ml.txt', format: 'sasrec' });
    assert.equal(a.model, 'gru4rec');
    assert.deepEqual(a.options, { epochs: 3, lr: 0.01, maxMinutes: 1.5, architecture: { units: 32, dropout: 0.3 } });
    assert.equal(a.promote, 'if-better');
    assert.equal(a.json, 'out.json');
    assert.equal(a.out, 'model-store');
  });

  it('resolves dataset keys and their format', () => {
    const a = parseTrainArgs(['--data', 'beauty', '--model', 'pop']);
    assert.equal(a.source.kind, 'file');
    assert.match((a.source as { path: string }).path, /amazon-s3rec\/Beauty\.txt\.gz$/);
    assert.equal((a.source as { format: string }).format, 's3rec');
  });

  it('maps the columns of your own export (csv|tsv|jsonl)', () => {
    const a = parseTrainArgs([
      '--data', '/d/export.tsv.gz', '--format', 'tsv', '--model', 'gru4rec',
      '--columns', 'session=SessionId,item=2,time=Time', '--time-format', 'epoch-s', '--types', 'pdp=view,wish=drop', '--header', 'true', '--delimiter', '\\t', '--group-by', 'session',
    ]);
    assert.deepEqual(a.source, {
      kind: 'file',
      path: '/d/export.tsv.gz',
      format: 'tsv',
      columns: { session: 'SessionId', item: 2, time: 'Time', types: { pdp: 'view', wish: null }, timeFormat: 'epoch-s', header: true, delimiter: '\t', groupBy: 'session' },
    });
  });

  it('names every problem of a column mapping', () => {
    assert.deepEqual(problems(['--data', 'x.csv', '--format', 'csv', '--model', 'pop']), ['--format csv needs --columns (e.g. user=user_id,item=item_id,time=ts)']);
    assert.deepEqual(problems(['--data', 'x.csv', '--format', 'csv', '--model', 'pop', '--columns', 'shopper=a,item=b', '--types', 'x=like', '--header', 'yes', '--group-by', 'day']), [
      '--columns: unknown key "shopper", expected user|session|item|time|type|category',
      `--types: x=like: expected one of ${EVENT_TYPES.join('|')} or drop`,
      '--header must be true or false, got "yes"',
      '--group-by must be user or session, got "day"',
      '--columns: user or session: at least one is required (the sequence key)',
    ]);
    assert.deepEqual(problems(['--data', 'ml-1m', '--model', 'pop', '--columns', 'user=a,item=b']), ['--columns only applies to --format csv|tsv|jsonl']);
  });

  it('builds a kafka source from --data or KAFKA_BROKERS, with a time range and namespace', () => {
    const a = parseTrainArgs(['--format', 'kafka', '--model', 'sasrec', '--from', '2026-11-01T00:00:00Z', '--to', '2026-11-02T00:00:00Z', '--namespace', 'ns1'], {
      KAFKA_BROKERS: 'h1:9092, h2:9092',
    });
    assert.deepEqual(a.source, { kind: 'kafka', brokers: ['h1:9092', 'h2:9092'], namespace: 'ns1', from: Date.UTC(2026, 10, 1), to: Date.UTC(2026, 10, 2) });
    const b = parseTrainArgs(['--format', 'kafka', '--data', 'b:1', '--model', 'pop'], { KAFKA_NAMESPACE: 'envns' });
    assert.deepEqual(b.source, { kind: 'kafka', brokers: ['b:1'], namespace: 'envns' });
  });

  it('lists every problem at once, clearly', () => {
    assert.deepEqual(problems(['--model', 'transformer', '--epochs', 'many', '--format', 'parquet', '--bogus']), [
      'unknown option --bogus',
      '--model must be one of sasrec|gru4rec|lstm|nextitnet|item2vec|pop|itemknn|cooc|bpr-mf, got "transformer"',
      '--format must be one of sasrec|s3rec|taobao|yoochoose|csv|tsv|jsonl|auto|kafka, got "parquet"',
      '--data is required: a dataset file or a dataset key',
      '--epochs must be an integer >= 1, got "many"',
    ]);
    assert.deepEqual(problems(['--data', 'x', '--model']), ['--model needs a value', '--model is required (sasrec|gru4rec|lstm|nextitnet|item2vec|pop|itemknn|cooc|bpr-mf)']);
    assert.deepEqual(problems(['--format', 'kafka', '--model', 'pop', '--from', 'yesterday']), [
      '--from must be an ISO-8601 time (e.g. 2026-11-01T00:00:00Z), got "yesterday"',
      '--format kafka needs brokers: --data host:port[,host:port] or KAFKA_BROKERS',
    ]);
    assert.deepEqual(problems(['--format', 'kafka', '--data', 'b:1', '--model', 'pop', '--from', '2026-11-02T00:00:00Z', '--to', '2026-11-01T00:00:00Z']), [
      '--from (2026-11-02T00:00:00Z) must be before --to (2026-11-01T00:00:00Z)',
    ]);
    assert.deepEqual(problems(['--data', 'x', '--model', 'pop', '--namespace', 'n', '--loss', 'mse']), [
      '--loss must be one of softmax|sampled-softmax|bce, got "mse"',
      '--namespace only applies to --format kafka',
    ]);
  });

  it('reads a value flag followed by another flag as missing its value, and the other flag as a flag', () => {
    assert.deepEqual(problems(['--data', '--model', 'pop', '--bogus=1', 'extra']), ['--data needs a value', 'unknown option --bogus=1', 'unknown option extra', '--data is required: a dataset file or a dataset key']);
  });

  it('appends the usage to the message', () => {
    assert.throws(() => parseTrainArgs([]), (err: Error) => /^--model is required.*\n\nusage: npm run train --/s.test(err.message));
  });
});
