import { createServer, type Server } from 'node:http';
import { metricsText, type Registry } from '@seqrec/metrics';

export interface MetricsServerOptions {
  host: string;
  port: number;
  registry: Registry;
}

/**
 * `GET /metrics` on a port of its own (METRICS_PORT), apart from the API: a NetworkPolicy can then
 * let monitoring scrape without reaching the API, and a scrape never waits behind API traffic
 * limits. Anything else answers 404. In a cluster worker (node:cluster) every worker listens on the
 * same port (the primary shares it) and any of them answers with every worker's series
 * (see `metricsText`). Its own short timeouts: a scrape is one small GET.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<Server> {
  const server = createServer({ headersTimeout: 5_000, requestTimeout: 10_000, connectionsCheckingInterval: 1_000 }, (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ statusCode: 404, error: 'Not Found', message: 'this port serves GET /metrics only' }));
      return;
    }
    metricsText(options.registry).then(
      (text) => {
        res.writeHead(200, { 'content-type': options.registry.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: Error) => {
        res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'unavailable', error: err.message }));
      },
    );
  });
  server.keepAliveTimeout = 65_000;
  server.maxConnections = 64;
  server.setTimeout(60_000);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
