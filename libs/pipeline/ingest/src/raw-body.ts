import type { HttpAdapterHost } from '@nestjs/core';
import type { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * Makes `application/json` bodies of the given routes arrive as the raw bytes (a Buffer), every other route
 * keeping fastify's own JSON parser (with its prototype-poisoning checks). The ingest route checks
 * what `JSON.parse` cannot (duplicate keys, nesting before anything recursive sees it, UTF-8, the
 * size of each event) and splits the array itself, so one bad element is rejected on its own.
 *
 * Called from a module's init hook, before the server listens: whether Nest registered its parsers
 * yet or not, this one replaces them (and Nest's later registration is skipped).
 */
export function rawJsonBodyFor(adapterHost: HttpAdapterHost, routes: ReadonlyArray<readonly [method: string, url: string]>): void {
  const adapter = adapterHost.httpAdapter as unknown as FastifyAdapter | undefined;
  if (!adapter || typeof adapter.useBodyParser !== 'function') return; // not fastify (no HTTP server in this context)
  const fastify = adapter.getInstance() as FastifyInstance;
  if (fastify.hasContentTypeParser('application/json')) fastify.removeContentTypeParser('application/json');
  const json = fastify.getDefaultJsonParser('error', 'error');
  adapter.useBodyParser('application/json', false, { bodyLimit: fastify.initialConfig.bodyLimit }, (req, body, done) => {
    const route = (req as FastifyRequest).routeOptions;
    if (routes.some(([method, url]) => req.method === method && route?.url === url)) done(null, body);
    else json(req, body.toString('utf8'), done);
  });
}
