/**
 * In-process generation speed: `node libs/ml/generator/dist/bench.js [events]`. Prints one JSON line
 * per scenario (events per second on this core, after a warm-up).
 */
import { ClickstreamGenerator } from './clickstream-generator';
import type { GeneratorOptions } from './options';

type Scenario = { name: string; options: GeneratorOptions; work: (g: ClickstreamGenerator) => number };

const SCENARIOS: Scenario[] = [
  { name: 'next', options: {}, work: (g) => g.next().ts as number },
  { name: 'next+stringify', options: {}, work: (g) => JSON.stringify(g.next()).length },
  {
    name: 'nextRecord+faults',
    options: { duplicateRate: 0.01, malformedRate: 0.01, lateRate: 0.01, isoTimestampRate: 0.05 },
    work: (g) => (g.nextRecord().kind === 'event' ? 1 : 0),
  },
  { name: 'next@1M-users', options: { users: 1_000_000, items: 100_000 }, work: (g) => g.next().ts as number },
];

function main(): void {
  const events = Number(process.argv[2] ?? 2_000_000);
  if (!Number.isSafeInteger(events) || events <= 0) throw new RangeError(`events must be a positive integer, got ${process.argv[2]}`);
  for (const s of SCENARIOS) {
    const built = performance.now();
    const g = new ClickstreamGenerator(s.options);
    const setupMs = performance.now() - built;
    let sink = 0;
    for (let i = 0; i < Math.min(200_000, events); i++) sink += s.work(g);
    const t0 = performance.now();
    for (let i = 0; i < events; i++) sink += s.work(g);
    const seconds = (performance.now() - t0) / 1000;
    process.stdout.write(
      `${JSON.stringify({ scenario: s.name, events, seconds: Number(seconds.toFixed(3)), eventsPerSecond: Math.round(events / seconds), setupMs: Math.round(setupMs), checksum: sink % 1000 })}\n`,
    );
  }
}

main();
