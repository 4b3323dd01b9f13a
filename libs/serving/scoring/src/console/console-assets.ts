import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';

/** One file of the console as it is served. */
export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Where the console's static files are checked in: `libs/serving/scoring/static/console` (from `dist/console`). */
export const CONSOLE_STATIC_DIR = join(__dirname, '..', '..', 'static', 'console');

/**
 * The console's files, read once at start-up into memory, by file name. Only the files of the
 * folder itself with a known type are served: a request for any other name (`..%2F`, a dotfile, a
 * sub-folder) matches nothing and answers 404.
 */
export function loadConsoleAssets(dir: string = CONSOLE_STATIC_DIR): Map<string, ConsoleAsset> {
  const assets = new Map<string, ConsoleAsset>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const type = TYPES[extname(entry.name)];
    if (!entry.isFile() || entry.name.startsWith('.') || type === undefined) continue;
    assets.set(entry.name, { body: readFileSync(join(dir, entry.name)), contentType: type });
  }
  if (!assets.has('index.html')) throw new Error(`the console's files are missing: no index.html in ${dir}`);
  return assets;
}
