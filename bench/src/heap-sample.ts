/**
 * Preloaded into a service with `--require` (bench:score with BENCH_HEAP_PROF=1): records where the
 * process allocates, garbage included, with V8's sampling heap profiler (one sample per ~8 KB
 * allocated; objects already collected by minor and major GCs are kept), and writes the
 * `.heapprofile` to $SEQREC_HEAP_PROFILE when the process exits. With
 * SEQREC_HEAP_PROFILE_KEEP=promoted only objects that outlived the young generation are kept
 * (samples of objects freed by a scavenge are dropped): what the scavenger copied and promoted,
 * which is what makes scavenges slow and old-generation collections frequent. `scripts/heapprofile-top.mjs`
 * summarises it by allocating function and by package. Not part of any service: a measuring tool.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const out = process.env['SEQREC_HEAP_PROFILE'];
if (out) {
  const session = new Session();
  session.connect();
  session.post('HeapProfiler.startSampling', {
    samplingInterval: 8192,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: process.env['SEQREC_HEAP_PROFILE_KEEP'] !== 'promoted',
  });
  let written = false;
  process.on('exit', () => {
    if (written) return;
    written = true;
    // A same-thread session answers synchronously, so this completes inside the exit handler.
    session.post('HeapProfiler.stopSampling', (err, res) => {
      if (err) console.error(`heap-sample: ${err.message}`);
      else writeFileSync(out, JSON.stringify(res.profile));
    });
  });
}
