import { createHash } from 'node:crypto';

/** One arm of an experiment. */
export interface VariantConfig {
  /** Variant name, reported in every answer (`control`, `sasrec-v12`, ...). */
  name: string;
  /** Share of the experiment's traffic (the shares of an experiment's variants are normalised). */
  share: number;
}

export interface AssignmentConfig {
  /** Experiment id; part of the hash, so a new experiment reshuffles users independently of the last. */
  id: string;
  variants: readonly VariantConfig[];
  /** Share of all users kept out of the experiment (served the default, counted as the holdout), 0..1. */
  holdout: number;
}

export const HOLDOUT = 'holdout';

/** Problems of an assignment config ([] when valid). */
export function assignmentProblems(c: AssignmentConfig): string[] {
  const problems: string[] = [];
  if (!c.id) problems.push('id: required');
  if (c.variants.length === 0) problems.push('variants: at least one');
  const names = new Set<string>();
  for (const v of c.variants) {
    if (!v.name) problems.push('variants: a variant without a name');
    else if (v.name === HOLDOUT) problems.push(`variants: "${HOLDOUT}" is reserved`);
    else if (names.has(v.name)) problems.push(`variants: "${v.name}" twice`);
    names.add(v.name);
    if (!(Number.isFinite(v.share) && v.share > 0)) problems.push(`variants.${v.name}.share: must be > 0, got ${v.share}`);
  }
  if (!(c.holdout >= 0 && c.holdout < 1)) problems.push(`holdout: must be in [0, 1), got ${c.holdout}`);
  return problems;
}

/**
 * A user's position in [0, 1) for an experiment: the first 52 bits of SHA-256(`id` NUL `userId`).
 * Stable across processes and restarts (sticky), independent between experiments, uniform.
 */
export function bucketOf(experimentId: string, userId: string): number {
  const h = createHash('sha256').update(experimentId).update('\u0000').update(userId).digest();
  // 52 bits: 6 bytes and 4 bits, exactly representable in a double
  return (h.readUIntBE(0, 6) * 16 + (h[6]! >> 4)) / 2 ** 52;
}

/**
 * The variant a user gets: the holdout for the first `holdout` of the unit interval, the variants
 * by their normalised shares over the rest. The same user always gets the same answer for the same
 * config; changing shares moves only the users between the changed boundaries.
 */
export function assignVariant(c: AssignmentConfig, userId: string): string {
  const u = bucketOf(c.id, userId);
  if (u < c.holdout) return HOLDOUT;
  const total = c.variants.reduce((s, v) => s + v.share, 0);
  let x = ((u - c.holdout) / (1 - c.holdout)) * total;
  for (const v of c.variants) {
    if (x < v.share) return v.name;
    x -= v.share;
  }
  return c.variants[c.variants.length - 1]!.name;
}
