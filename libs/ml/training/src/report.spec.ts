import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProgressBar, formatDuration, progressLine } from './progress';
import { lineChart } from './report';

const p = { epoch: 2, epochs: 4, batch: 5, batches: 10, loss: 1.23456, elapsedSeconds: 10, etaSeconds: 125, sequencesPerSecond: 321.4 };

describe('progress and report', () => {
  it('formats a progress line with loss and ETA', () => {
    assert.equal(progressLine('sasrec', p, 10), 'sasrec epoch 2/4 [#####-----]  50% loss 1.2346 321 seq/s ETA 2m05s');
    assert.equal(formatDuration(7_300), '2h01m');
  });

  it('redraws in place on a TTY and writes throttled lines otherwise', () => {
    const tty: string[] = [];
    const bar = new ProgressBar('m', { write: (s) => tty.push(s) > 0, isTTY: true, columns: 200 });
    bar.update(p);
    bar.update({ ...p, batch: 10 });
    assert.ok(tty[0]!.startsWith('\rm epoch 2/4'));
    assert.equal(tty[tty.length - 1], '\n');
    const log: string[] = [];
    const plain = new ProgressBar('m', { write: (s) => log.push(s) > 0 }, 60_000);
    plain.update(p);
    plain.update({ ...p, batch: 6 });
    plain.update({ ...p, batch: 10 });
    assert.equal(log.length, 2, 'first tick and end of epoch');
    assert.ok(log.every((l) => l.endsWith('\n') && !l.includes('\r')));
  });

  it('draws curves as inline SVG', () => {
    const svg = lineChart('Loss', [{ label: 'loss', points: [[1, 3], [2, 2], [3, 1.5]], color: '#000' }], 'epoch');
    assert.match(svg, /^<svg [^>]*aria-label="Loss"/);
    assert.match(svg, /<path d="M[\d.]+,[\d.]+ L/);
    assert.match(lineChart('Empty', [], 'epoch'), /no data/);
  });
});
