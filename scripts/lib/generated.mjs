// Generated sections of Markdown files: text between `<!-- <name>:begin ... -->` and
// `<!-- <name>:end -->` is rendered from the code or results, never typed by hand.
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;

/** `text` with the section `name` replaced by `body` (the markers stay). Throws when the markers are missing. */
export function replaceSection(text, name, body, file = 'the file') {
  const re = new RegExp(`(<!-- ${name}:begin[^>]*-->)[\\s\\S]*?(<!-- ${name}:end -->)`);
  if (!re.test(text)) throw new Error(`${file}: no <!-- ${name}:begin --> ... <!-- ${name}:end --> markers`);
  return text.replace(re, (_, begin, end) => `${begin}\n${body}\n${end}`);
}

/**
 * Renders `file`'s sections ({ name: () => body }). With `--check` on the command line it writes
 * nothing and exits 1 when the file is stale (`howToFix` says what to run); else it rewrites the
 * file when anything changed. Returns the rendered text.
 */
export function renderSections(file, sections, howToFix) {
  const name = relative(root, file);
  const current = readFileSync(file, 'utf8');
  let next = current;
  for (const [section, make] of Object.entries(sections)) next = replaceSection(next, section, make(), name);
  if (process.argv.includes('--check')) {
    if (next !== current) {
      console.error(`${name}: generated sections are out of date: run ${howToFix}`);
      process.exit(1);
    }
    console.log(`${name}: generated sections current`);
  } else if (next !== current) {
    writeFileSync(file, next);
    console.log(`${name}: generated sections rewritten`);
  }
  return next;
}
