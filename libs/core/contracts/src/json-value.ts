/** A topic value's JSON object, or null when the value is missing, not JSON, or not an object. */
export function jsonObject(value: Buffer | null): Record<string, unknown> | null {
  if (value === null) return null;
  let v: unknown;
  try {
    v = JSON.parse(value.toString('utf8'));
  } catch {
    return null;
  }
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}
