/**
 * A tiny clustered HTTP service for cluster.spec: `GET /` answers the worker slot, `/crash/<slot>` exits
 * that slot's worker with code 3 (409 from the others); FIXTURE_METRICS_PORT serves the cluster-wide
 * scrape (`startMetricsServer`, as the services' METRICS_PORT does). FIXTURE_FAIL_START=<code> makes
 * every worker exit with that code before it listens; FIXTURE_CRASH_AFTER_LISTEN=1 makes every
 * worker exit (code 4) right after it starts serving.
 */
import { createServer } from 'node:http';
import { counter, createRegistry, serveWorkerMetrics, workerSlot } from '@seqrec/metrics';
import { runClustered } from '../cluster';
import { startMetricsServer } from '../metrics.server';

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
      served.inc();
      res.end(JSON.stringify({ slot: workerSlot() ?? 'single', pid: process.pid, instance: process.env['INSTANCE_ID'] }));
    });
    // every worker listens on the metrics port too: the primary shares it, any worker answers for all
    const metrics = await startMetricsServer({ host: '127.0.0.1', port: Number(process.env['FIXTURE_METRICS_PORT']), registry });
    server.listen(Number(process.env['FIXTURE_PORT']), '127.0.0.1', () => {
      if (process.env['FIXTURE_CRASH_AFTER_LISTEN']) setTimeout(() => process.exit(4), 20);
    });
    process.once('SIGTERM', () => {
      metrics.close();
      server.close(() => process.exit(0));
    });
  },
);
