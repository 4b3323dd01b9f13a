import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { describe, it } from 'node:test';
import { Module } from '@nestjs/common';
import { EnvError } from '@seqrec/config';
import { createService, type BootstrapOptions } from './bootstrap';
import { PlatformModule } from './platform.module';
import { httpServerEnvProblems } from './server.env';

@Module({})
class EmptyModule {}

const service: BootstrapOptions<Record<string, never>> = {
  service: 'unit',
  env: {},
  defaultPort: 8099,
  module: (env) => ({ module: EmptyModule, imports: [PlatformModule.forRoot({ service: 'unit', env })] }),
};

describe(httpServerEnvProblems.name, () => {
  const base = {
    HTTP_HEADERS_TIMEOUT_MS: 10_000,
    HTTP_REQUEST_TIMEOUT_MS: 30_000,
    HTTP_KEEP_ALIVE_TIMEOUT_MS: 72_000,
    HTTP_CONNECTION_TIMEOUT_MS: 120_000,
    HTTP_MAX_CONNECTIONS: 4_096,
    HTTP_MAX_REQUESTS_PER_SOCKET: 0,
    HTTP_PORT: 8081,
    METRICS_PORT: 9081,
  };

  it('accepts the defaults; headers may not outlast the whole request; metrics need their own port', () => {
    assert.deepEqual(httpServerEnvProblems(base), {});
    assert.deepEqual(httpServerEnvProblems({ ...base, HTTP_REQUEST_TIMEOUT_MS: 0, HTTP_HEADERS_TIMEOUT_MS: 60_000 }), {}, 'no request limit: any headers limit');
    assert.match(httpServerEnvProblems({ ...base, HTTP_HEADERS_TIMEOUT_MS: 31_000 })['HTTP_HEADERS_TIMEOUT_MS'] ?? '', /must not exceed HTTP_REQUEST_TIMEOUT_MS \(30000\)/);
    assert.match(httpServerEnvProblems({ ...base, METRICS_PORT: 8081 })['METRICS_PORT'] ?? '', /must differ from HTTP_PORT/);
  });
});

describe(createService.name, () => {
  it('lists every bad server and auth variable at once', async () => {
    await assert.rejects(
      createService(service, { HTTP_MAX_CONNECTIONS: '-1', AUTH_PRODUCER_RATE: 'fast', HTTP_REQUEST_TIMEOUT_MS: '1.5' }),
      (err: unknown) =>
        err instanceof EnvError &&
        ['HTTP_MAX_CONNECTIONS', 'AUTH_PRODUCER_RATE', 'HTTP_REQUEST_TIMEOUT_MS'].every((k) => /whole number/.test(err.problems[k] ?? '')),
    );
    await assert.rejects(createService(service, { HTTP_PORT: '8100', METRICS_PORT: '8100' }), (err: unknown) => err instanceof EnvError && 'METRICS_PORT' in err.problems);
    await assert.rejects(
      createService(service, { AUTH_ADMIN_KEYS: 'sha256:beef' }),
      (err: unknown) => err instanceof EnvError && /64 hex digits/.test(err.problems['AUTH_ADMIN_KEYS'] ?? ''),
    );
  });

  it('gives the HTTP server its timeouts and connection cap', async () => {
    const { app, env } = await createService(service, {
      LOG_LEVEL: 'error',
      HTTP_HEADERS_TIMEOUT_MS: '2000',
      HTTP_REQUEST_TIMEOUT_MS: '4000',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '5000',
      HTTP_CONNECTION_TIMEOUT_MS: '9000',
      HTTP_MAX_CONNECTIONS: '7',
      HTTP_MAX_REQUESTS_PER_SOCKET: '50',
    });
    try {
      const server = app.getHttpServer() as Server;
      assert.equal(server.headersTimeout, 2_000);
      assert.equal(server.requestTimeout, 4_000);
      assert.equal(server.keepAliveTimeout, 5_000);
      assert.equal(server.timeout, 9_000);
      assert.equal(server.maxConnections, 7);
      assert.equal(server.maxRequestsPerSocket, 50);
      assert.equal(env.METRICS_PORT, 9099, 'default: HTTP port + 1000');
    } finally {
      await app.close();
    }
  });
});
