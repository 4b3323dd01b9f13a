/**
 * The sum of a metric's series on a Prometheus text endpoint, over the series whose labels include
 * every `key="value"` of `labels` (comma-separated; empty: all). A counter never seen is 0.
 */
export async function metricSum(metricsUrl: string, name: string, labels = ''): Promise<number> {
  const want = labels.split(',').filter(Boolean);
  const text = await (await fetch(metricsUrl)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!(line.startsWith(`${name}{`) || line.startsWith(`${name} `))) continue;
    const close = line.lastIndexOf('}');
    const labelText = close > 0 ? line.slice(name.length, close + 1) : '';
    if (want.every((kv) => labelText.includes(kv))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
