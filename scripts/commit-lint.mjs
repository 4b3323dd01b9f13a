#!/usr/bin/env node
// scripts/commit-lint.mjs — checks the commit messages and contents after a base commit recorded in
// the repository (.commit-lint-base; the history before it is left as it is):
//   - the subject is conventional, `type(scope): subject` or `type: subject` (`!` before the colon
//     marks a breaking change), with one of TYPES and a lower-case scope;
//   - the subject has at most 72 characters;
//   - a body is separated from the subject by a blank line;
//   - a commit that touches result files (bench/results/: the measured figures) changes nothing
//     else but documentation (bench/RESULTS.md and the README's summary are rendered from them, so
//     new figures always come with a change under bench/results/)
//     but documentation (*.md, docs/): results are committed apart from behaviour changes.
// Merge commits are skipped (the commits they bring in are checked themselves).
// Usage: node scripts/commit-lint.mjs [--base <rev>] [--base-file <path>] [--head <rev>]
//   default: base from .commit-lint-base, head HEAD. Exits 1 listing every problem.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export const TYPES = ['feat', 'fix', 'perf', 'refactor', 'docs', 'test', 'build', 'ci', 'chore', 'bench', 'results', 'revert'];
export const MAX_SUBJECT = 72;
const SUBJECT = new RegExp(`^(${TYPES.join('|')})(\\([a-z0-9][a-z0-9._/,-]*\\))?!?: \\S`);

/** Result files: what benchmark and fault-suite runs record. */
export const isResultFile = (path) => path.startsWith('bench/results/');
/** Files that may change together with results: the documentation that reports them. */
export const isDocFile = (path) => path.endsWith('.md') || path.startsWith('docs/');

/**
 * The problems of one commit, [] when there are none.
 * @param {{ message: string, files: string[] }} commit  message: the raw message (`git log %B`);
 *   files: every path the commit adds, changes or deletes.
 * @returns {string[]}
 */
export function lintCommit({ message, files }) {
  const problems = [];
  const lines = message.replace(/\s+$/, '').split('\n');
  const subject = lines[0] ?? '';
  if (!SUBJECT.test(subject)) {
    const m = /^(\w+)(\([^)]*\))?!?:/.exec(subject);
    if (!m) problems.push(`subject is not \`type(scope): subject\` (types: ${TYPES.join(' ')})`);
    else if (!TYPES.includes(m[1])) problems.push(`type "${m[1]}" is not one of ${TYPES.join(' ')}`);
    else problems.push('subject is not `type(scope): subject` (lower-case scope, one space after the colon, then the text)');
  }
  const length = [...subject].length;
  if (length > MAX_SUBJECT) problems.push(`subject has ${length} characters, more than ${MAX_SUBJECT}`);
  if (lines.length > 1 && lines[1].trim() !== '') problems.push('no blank line between the subject and the body');
  const results = files.filter(isResultFile);
  if (results.length > 0) {
    const behaviour = files.filter((f) => !isResultFile(f) && !isDocFile(f));
    if (behaviour.length > 0) {
      const list = (paths) => (paths.length <= 4 ? paths.join(', ') : `${paths.slice(0, 3).join(', ')} and ${paths.length - 3} more`);
      problems.push(`results (${list(results)}) committed together with other changes (${list(behaviour)}): commit results apart`);
    }
  }
  return problems;
}

/**
 * Every problem of a list of commits, each as `<short hash> <subject>: <problem>`.
 * @param {{ hash: string, message: string, files: string[] }[]} commits
 */
export function lintCommits(commits) {
  return commits.flatMap((c) => lintCommit(c).map((p) => `${c.hash.slice(0, 7)} ${c.message.split('\n')[0]}: ${p}`));
}

function git(args, cwd) {
  return execFileSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}

/** The non-merge commits in base..head, oldest first, with their messages and files. */
export function readCommits(base, head, cwd) {
  const hashes = git(['rev-list', '--no-merges', '--reverse', `${base}..${head}`], cwd).split('\n').filter(Boolean);
  return hashes.map((hash) => ({
    hash,
    message: git(['show', '-s', '--format=%B', hash], cwd),
    files: git(['diff-tree', '--no-commit-id', '--name-only', '--no-renames', '-r', '--root', hash], cwd).split('\n').filter(Boolean),
  }));
}

function main() {
  const { values } = parseArgs({
    options: {
      base: { type: 'string' },
      'base-file': { type: 'string', default: '.commit-lint-base' },
      head: { type: 'string', default: 'HEAD' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('usage: node scripts/commit-lint.mjs [--base <rev>] [--base-file <path>] [--head <rev>]');
    return 0;
  }
  const cwd = git(['rev-parse', '--show-toplevel'], process.cwd()).trim();
  const base = values.base ?? readFileSync(join(cwd, values['base-file']), 'utf8').trim();
  try {
    git(['merge-base', '--is-ancestor', base, values.head], cwd);
  } catch {
    console.error(`commit-lint: base ${base} is not an ancestor of ${values.head} here (a shallow clone? git fetch --unshallow)`);
    return 2;
  }
  const commits = readCommits(base, values.head, cwd);
  const problems = lintCommits(commits);
  for (const p of problems) console.error(`commit-lint: ${p}`);
  const shortBase = git(['rev-parse', '--short=7', base], cwd).trim();
  console.log(`commit-lint: ${commits.length} commits after ${shortBase}, ${problems.length} problems`);
  return problems.length === 0 ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exit(main());
