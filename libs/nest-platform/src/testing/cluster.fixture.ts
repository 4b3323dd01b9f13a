/**
 * A tiny clustered HTTP service for cluster.spec: `GET /` answers the worker slot, `/crash/<slot>` exits
 * that slot's worker with code 3 (409 from the others), `/metrics` is the cluster-wide scrape. FIXTURE_FAIL_START=<code> makes
 * every worker exit with that code before it listens; FIXTURE_CRASH_AFTER_LISTEN=1 makes every
 * worker exit (code 4) right after it starts serving.
 */
import { createServer } from 'node:http';
import { counter, createRegistry, metricsText, serveWorkerMetrics, workerSlot } from '@seqrec/metrics';
import { runClustered } from '../cluster';

void runClustered(
  {
    service: 'fixture',
    workersVariable: 'FIXTURE_WORKERS',
    restartDelayMs: 50,
    maxRestarts: Number(process.env['FIXTURE_MAX_RESTARTS'] ?? 5),
    shutdownTimeoutMs: 5_000,
  },
  async () => {
    const failCode = Number(process.env['FIXTURE_FAIL_START'] ?? 0);
    if (failCode) process.exit(failCode);
    const registry = createRegistry('fixture');
    serveWorkerMetrics(registry);
    const served = counter(registry, { name: 'fixture_requests_total', help: 'requests served' });
    const server = createServer((req, res) => {
      if (req.url === `/crash/${workerSlot() ?? 'single'}`) process.exit(3);
      if (req.url?.startsWith('/crash/')) {
        res.statusCode = 409; // another worker's slot: the caller retries on a new connection
        res.end();
        return;
      }
      if (req.url === '/metrics') {
        metricsText(registry).then(
          (text) => res.end(text),
          (err: Error) => {
            res.statusCode = 503;
            res.end(err.message);
          },
        );
        return;
      }
      served.inc();
      res.end(JSON.stringify({ slot: workerSlot() ?? 'single', pid: process.pid, instance: process.env['INSTANCE_ID'] }));
    });
    server.listen(Number(process.env['FIXTURE_PORT']), '127.0.0.1', () => {
      if (process.env['FIXTURE_CRASH_AFTER_LISTEN']) setTimeout(() => process.exit(4), 20);
    });
    process.once('SIGTERM', () => server.close(() => process.exit(0)));
  },
);
