import { HOLDOUT, assignmentProblems, type AssignmentConfig, type VariantConfig } from './assignment';

/** A served model: a name (the model store's) and a version, or the name's promoted version when none. */
export interface ModelChoice {
  name: string;
  /** A stored version (pinned); absent: whatever version of `name` is promoted, followed as it changes. */
  version?: string;
}

export interface ExperimentVariant extends VariantConfig {
  /** The model this variant answers with; absent: the scorer's own served model (MODEL_NAME, promoted). */
  model?: ModelChoice;
}

/**
 * An online experiment (docs/experiments.md): variants with traffic shares, sticky by hashed user
 * id, a holdout served the scorer's own model, optionally a shadow model that scores sampled live
 * requests without being served. One experiment is active at a time; changing it takes effect on
 * every scorer within SCORER_EXPERIMENT_POLL_MS.
 */
export interface ExperimentConfig extends AssignmentConfig {
  variants: ExperimentVariant[];
  /** The variant the others are compared with; default the first. */
  control?: string;
  /** CTR@K: an impression counts as clicked when one of its first K items is clicked. Default 10. */
  k?: number;
  /** How long after an impression a click, cart or purchase is attributed to it, minutes. Default 60. */
  attributionMinutes?: number;
  /** A candidate that scores a sample of live recommendation requests off the request path, never served. */
  shadow?: { model: ModelChoice; sample: number };
}

export const DEFAULT_CTR_K = 10;
export const DEFAULT_ATTRIBUTION_MINUTES = 60;
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function modelProblems(m: unknown, at: string): string[] {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return [`${at}: an object {name, version?}`];
  const c = m as Partial<ModelChoice>;
  const out: string[] = [];
  if (typeof c.name !== 'string' || !MODEL_NAME.test(c.name)) out.push(`${at}.name: a model name ([A-Za-z0-9_.-], at most 64)`);
  if (c.version !== undefined && (typeof c.version !== 'string' || !MODEL_NAME.test(c.version))) out.push(`${at}.version: a stored version ([A-Za-z0-9_.-], at most 64)`);
  for (const key of Object.keys(c)) if (key !== 'name' && key !== 'version') out.push(`${at}.${key}: unknown field`);
  return out;
}

/**
 * Checks an experiment as an API body gives it: the config, or the problems found (each naming its
 * field). The id must be a plain name: it is part of Redis keys, metric labels and the assignment hash.
 */
export function parseExperiment(body: unknown): { ok: true; config: ExperimentConfig } | { ok: false; problems: string[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, problems: ['body: an experiment object'] };
  const b = body as Record<string, unknown>;
  const problems: string[] = [];
  const known = new Set(['id', 'variants', 'holdout', 'control', 'k', 'attributionMinutes', 'shadow']);
  for (const key of Object.keys(b)) if (!known.has(key)) problems.push(`${key}: unknown field`);
  if (typeof b.id !== 'string' || !ID.test(b.id)) problems.push('id: [A-Za-z0-9][A-Za-z0-9_.-], at most 64 characters');
  if (!Array.isArray(b.variants) || b.variants.length === 0 || b.variants.length > 8) {
    problems.push('variants: 1 to 8 variants');
    return { ok: false, problems };
  }
  const variants: ExperimentVariant[] = [];
  b.variants.forEach((v: unknown, i) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return void problems.push(`variants/${i}: an object {name, share, model?}`);
    const x = v as Record<string, unknown>;
    for (const key of Object.keys(x)) if (!['name', 'share', 'model'].includes(key)) problems.push(`variants/${i}.${key}: unknown field`);
    if (typeof x.name !== 'string' || !ID.test(x.name)) problems.push(`variants/${i}.name: [A-Za-z0-9][A-Za-z0-9_.-], at most 64 characters`);
    if (typeof x.share !== 'number') problems.push(`variants/${i}.share: a number > 0`);
    if (x.model !== undefined) problems.push(...modelProblems(x.model, `variants/${i}.model`));
    variants.push({ name: String(x.name), share: Number(x.share), ...(x.model !== undefined ? { model: x.model as ModelChoice } : {}) });
  });
  const holdout = b.holdout === undefined ? 0 : b.holdout;
  if (typeof holdout !== 'number') problems.push('holdout: a number in [0, 1)');
  const config: ExperimentConfig = { id: String(b.id), variants, holdout: Number(holdout) };
  if (b.control !== undefined) {
    if (typeof b.control !== 'string' || !variants.some((v) => v.name === b.control)) problems.push('control: the name of one of the variants');
    else config.control = b.control;
  }
  if (b.k !== undefined) {
    if (!Number.isInteger(b.k) || (b.k as number) < 1 || (b.k as number) > 200) problems.push('k: an integer in [1, 200]');
    else config.k = b.k as number;
  }
  if (b.attributionMinutes !== undefined) {
    const m = b.attributionMinutes;
    if (typeof m !== 'number' || !(m > 0 && m <= 7 * 24 * 60)) problems.push('attributionMinutes: a number in (0, 10080]');
    else config.attributionMinutes = m;
  }
  if (b.shadow !== undefined) {
    const s = b.shadow as Record<string, unknown> | null;
    if (typeof s !== 'object' || s === null || Array.isArray(s)) problems.push('shadow: an object {model, sample}');
    else {
      for (const key of Object.keys(s)) if (key !== 'model' && key !== 'sample') problems.push(`shadow.${key}: unknown field`);
      problems.push(...modelProblems(s.model, 'shadow.model'));
      if (typeof s.sample !== 'number' || !(s.sample > 0 && s.sample <= 1)) problems.push('shadow.sample: the share of requests scored, in (0, 1]');
      else config.shadow = { model: s.model as ModelChoice, sample: s.sample };
    }
  }
  for (const p of assignmentProblems(config)) if (!problems.includes(p)) problems.push(p);
  return problems.length ? { ok: false, problems } : { ok: true, config };
}

/** The variant the holdout is served like (the control). */
export function controlOf(c: ExperimentConfig): ExperimentVariant {
  return c.variants.find((v) => v.name === c.control) ?? c.variants[0]!;
}

/** The model choice a variant name answers with (the holdout, and a variant without one: the scorer's own served model). */
export function variantModel(c: ExperimentConfig, variant: string): ModelChoice | undefined {
  if (variant === HOLDOUT) return undefined;
  return c.variants.find((v) => v.name === variant)?.model;
}

export function attributionMs(c: ExperimentConfig): number {
  return (c.attributionMinutes ?? DEFAULT_ATTRIBUTION_MINUTES) * 60_000;
}

/** `name@version`, or `name` for the promoted version: the key a scorer loads a model choice under. */
export function modelKey(m: ModelChoice): string {
  return m.version ? `${m.name}@${m.version}` : m.name;
}
