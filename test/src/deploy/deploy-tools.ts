/**
 * Shared by the deploy tests: the repository root, running a command, finding the tools
 * scripts/deploy/tools.sh installs, and reading YAML.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

export const ROOT = join(__dirname, '..', '..', '..');

/** Where scripts/deploy/tools.sh puts its PyPI tools. */
export const TOOLS_BIN = join(process.env.SEQREC_CACHE ?? join(homedir(), '.cache', 'seqrec'), 'deploy-tools', 'venv', 'bin');

/** Absolute path of `name` from PATH or the deploy-tools venv; fails with how to install it. */
export function tool(name: string, install: string): string {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), TOOLS_BIN]) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error(`'${name}' not found on PATH or in ${TOOLS_BIN}: ${install}`);
}

export const INSTALL_HINT = 'run `bash scripts/deploy/tools.sh`';

export function run(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd: opts.cwd ?? ROOT, input: opts.input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

/** Runs and returns stdout; throws with the command's output when it exits non-zero. */
export function runOk(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): string {
  const res = run(cmd, args, opts);
  if (res.error) throw res.error;
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${res.status}:\n${res.stdout}\n${res.stderr}`);
  return res.stdout;
}

export function yamlDocs(text: string): Array<Record<string, unknown>> {
  return parseAllDocuments(text)
    .map((d) => d.toJSON() as Record<string, unknown> | null)
    .filter((d): d is Record<string, unknown> => d !== null);
}

export function yamlDoc<T = Record<string, unknown>>(text: string): T {
  return parse(text) as T;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- dashboards are untyped JSON */
type Obj = Record<string, any>;

/** deploy/grafana/dashboards/*.json, parsed. */
export function dashboards(): Array<{ file: string; json: Obj }> {
  const dir = join(ROOT, 'deploy', 'grafana', 'dashboards');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, json: JSON.parse(readFileSync(join(dir, file), 'utf8')) as Obj }));
}

/** Every query panel of a dashboard (rows hold none). */
export function queryPanels(dash: Obj): Obj[] {
  return (dash.panels as Obj[]).flatMap((p) => (p.type === 'row' ? ((p.panels ?? []) as Obj[]) : [p])).filter((p) => Array.isArray(p.targets));
}

/** A panel expression with Grafana's variables replaced as Grafana would for "All" / the given namespace. */
export function concrete(expr: string, namespace = '.*', rateInterval = '1m'): string {
  return expr
    .replaceAll('$namespace', namespace)
    .replaceAll('$instance', '.*')
    .replaceAll('$experiment', '.*')
    .replaceAll('$__rate_interval', rateInterval)
    .replaceAll('$__interval', '15s')
    .replaceAll('$__range', '1h');
}
