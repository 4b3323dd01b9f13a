// Unit tests of scripts/commit-lint.mjs on sample commit data (no git).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_SUBJECT, TYPES, lintCommit, lintCommits } from './commit-lint.mjs';

const commit = (message, files = ['libs/platform/kafka/src/kafka-bus.ts']) => ({ message, files });

describe('lintCommit', () => {
  it('accepts conventional subjects of every type, with or without scope, body or breaking mark', () => {
    for (const type of TYPES) assert.deepEqual(lintCommit(commit(`${type}(kafka): keep the producer idempotent\n`)), [], type);
    for (const subject of ['fix: one line', 'feat(scoring)!: drop the v0 route', 'build(node,docker): Node 24', 'docs(libs/ml/model): tour']) {
      assert.deepEqual(lintCommit(commit(`${subject}\n`)), [], subject);
    }
    assert.deepEqual(lintCommit(commit('perf(scorer): int8 top-k\n\nbench:score p99 12.1 -> 7.3 ms at 1,000/s.\nSecond line.\n')), []);
  });

  it('rejects subjects that are not `type(scope): subject`', () => {
    const problems = (subject) => lintCommit(commit(`${subject}\n`));
    assert.match(problems('Review: the comment claims only what the code shows')[0], /type "Review" is not one of/);
    assert.match(problems('feature(kafka): x')[0], /type "feature" is not one of/);
    assert.match(problems('bench:ingest probes go out through their own producer')[0], /is not `type\(scope\): subject`/);
    assert.match(problems('fix(Kafka): upper-case scope')[0], /lower-case scope/);
    assert.match(problems('fix(kafka):no space')[0], /one space after the colon/);
    assert.match(problems('fix(kafka): ')[0], /then the text/);
    assert.match(problems('Merge branch h18-node')[0], /is not `type\(scope\): subject`/);
    assert.match(problems('fixup! fix(kafka): x')[0], /is not `type\(scope\): subject`/);
  });

  it(`limits the subject to ${MAX_SUBJECT} characters, counted as characters not bytes`, () => {
    const at = `fix(kafka): ${'x'.repeat(MAX_SUBJECT - 'fix(kafka): '.length)}`;
    assert.equal(at.length, MAX_SUBJECT);
    assert.deepEqual(lintCommit(commit(at)), []);
    assert.deepEqual(lintCommit(commit(`${at}y`)), [`subject has ${MAX_SUBJECT + 1} characters, more than ${MAX_SUBJECT}`]);
    const unicode = `perf(model): ${'×'.repeat(MAX_SUBJECT - 'perf(model): '.length)}`;
    assert.deepEqual(lintCommit(commit(unicode)), [], 'multi-byte characters count once');
  });

  it('wants a blank line between the subject and the body', () => {
    assert.deepEqual(lintCommit(commit('fix(kafka): x\nbody right under the subject\n')), ['no blank line between the subject and the body']);
    assert.deepEqual(lintCommit(commit('fix(kafka): x\n\nbody\n')), []);
    assert.deepEqual(lintCommit(commit('fix(kafka): x\n\n\n')), [], 'trailing blank lines are no body');
  });

  it('keeps results apart from behaviour changes; documentation may come with them', () => {
    const results = ['bench/results/score.json', 'bench/RESULTS.md', 'README.md', 'docs/exact-topk.md'];
    assert.deepEqual(lintCommit(commit('results(bench): score on 1a2b3c4\n', results)), []);
    const mixed = lintCommit(commit('perf(scorer): faster top-k\n', [...results, 'libs/serving/scoring/src/topk.ts']));
    assert.equal(mixed.length, 1);
    assert.match(mixed[0], /results \(bench\/results\/score\.json\) committed together with other changes \(libs\/serving\/scoring\/src\/topk\.ts\): commit results apart/);
    assert.match(lintCommit(commit('results(bench): x\n', ['bench/results/ingest.json', 'bench/src/ingest.bench.ts']))[0], /bench\/src\/ingest\.bench\.ts/);
    const many = ['a.ts', 'b.ts', 'c.ts', 'd.ts', 'e.ts'];
    assert.match(lintCommit(commit('results(bench): x\n', ['bench/results/x.json', ...many]))[0], /\(a\.ts, b\.ts, c\.ts and 2 more\)/);
    assert.deepEqual(lintCommit(commit('feat(kafka): x\n', ['libs/platform/kafka/src/a.ts', 'README.md'])), [], 'no results: anything goes together');
    assert.deepEqual(lintCommit(commit('docs(readme): x\n', ['bench/RESULTS.md', 'scripts/bench-report.mjs'])), [], 'the rendered tables move with their renderer');
  });
});

describe('lintCommits', () => {
  it('lists every problem with the short hash and subject', () => {
    const commits = [
      { hash: '1074c78f7725cd081a5d69e06cc91a57fd2c9c3c', message: 'refactor(testing): one raw Redis PING helper\n', files: ['libs/platform/testing/src/redis.ts'] },
      { hash: 'd6e5eb5000000000000000000000000000000000', message: `Review: ${'y'.repeat(80)}\n`, files: ['libs/ml/model/src/gru4rec.ts'] },
    ];
    const problems = lintCommits(commits);
    assert.equal(problems.length, 2);
    assert.ok(problems.every((p) => p.startsWith(`d6e5eb5 Review: ${'y'.repeat(80)}: `)), problems.join('\n'));
    assert.deepEqual(lintCommits([]), []);
  });
});
