/**
 * A one-line training progress bar: epoch, bar, loss, sequences/s and ETA. On a TTY the line is
 * redrawn in place (`\r`); otherwise (logs, CI) a plain line is written at most every
 * `intervalMs` and at the end of every epoch, so logs stay readable.
 */
import type { TrainProgress } from '@seqrec/model';

export interface ProgressStream {
  write(s: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The progress line for `p` (without line ending). */
export function progressLine(label: string, p: TrainProgress, width = 20): string {
  const frac = p.batches > 0 ? Math.min(1, p.batch / p.batches) : 0;
  const filled = Math.round(frac * width);
  const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
  return (
    `${label} epoch ${p.epoch}/${p.epochs} [${bar}] ${String(Math.round(frac * 100)).padStart(3)}% ` +
    `loss ${p.loss.toFixed(4)} ${p.sequencesPerSecond.toFixed(0)} seq/s ETA ${formatDuration(p.etaSeconds)}`
  );
}

export class ProgressBar {
  private lastWrite = 0;
  private drawn = false;

  constructor(
    private readonly label: string,
    private readonly stream: ProgressStream = process.stderr,
    private readonly intervalMs = 10_000,
  ) {}

  update(p: TrainProgress): void {
    const line = progressLine(this.label, p);
    const endOfEpoch = p.batch === p.batches;
    if (this.stream.isTTY) {
      const cols = this.stream.columns ?? 120;
      this.stream.write(`\r${line.slice(0, cols - 1).padEnd(Math.min(cols - 1, line.length + 2))}`);
      this.drawn = true;
      if (endOfEpoch) this.newline();
      return;
    }
    const now = Date.now();
    if (endOfEpoch || now - this.lastWrite >= this.intervalMs) {
      this.lastWrite = now;
      this.stream.write(`${line}\n`);
    }
  }

  /** Ends the redrawn line (before other output). */
  newline(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}
