import { Inject, Logger, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { CleanedEnv, consoleEnv } from '@seqrec/config';
import { FsModelStore, type modelStoreEnv, type servedModelEnv } from '@seqrec/model-store';
import { loadConsoleAssets, type ConsoleAsset } from './console-assets';
import { CONSOLE_CSP, CONSOLE_OPTIONS } from './console.constants';
import { ConsoleController, type ConsoleOptions } from './console.controller';

const ASSETS = 'SEQREC_CONSOLE_ASSETS';

/**
 * The operator console at `/console/`: static HTML, CSS and ES modules checked in under
 * `libs/serving/scoring/static/console` (no build step), served with a strict
 * Content-Security-Policy, and the admin reads of {@link ConsoleController}. Import it beside
 * ScoringModule. With CONSOLE_ENABLED=false it registers nothing: every console URL answers 404.
 */
@Module({})
export class ConsoleModule implements OnModuleInit {
  constructor(
    private readonly adapter: HttpAdapterHost,
    @Inject(ASSETS) private readonly assets: Map<string, ConsoleAsset>,
  ) {}

  static register(env: CleanedEnv<typeof consoleEnv & typeof modelStoreEnv & typeof servedModelEnv>): DynamicModule {
    if (!env.CONSOLE_ENABLED) return { module: ConsoleDisabledModule };
    const options: ConsoleOptions = {
      modelName: env.MODEL_NAME,
      store: new FsModelStore(env.MODEL_STORE_DIR),
      sessionGapMs: env.SESSION_GAP_MINUTES * 60_000,
    };
    return {
      module: ConsoleModule,
      controllers: [ConsoleController],
      providers: [
        { provide: CONSOLE_OPTIONS, useValue: options },
        { provide: ASSETS, useFactory: () => loadConsoleAssets() },
      ],
    };
  }

  onModuleInit(): void {
    const fastify = this.adapter.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return;
    const send = (reply: FastifyReply, name: string) => {
      const asset = this.assets.get(name);
      if (!asset) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no console file ${name}` });
      return reply
        .headers({
          'content-type': asset.contentType,
          'content-security-policy': CONSOLE_CSP,
          'x-content-type-options': 'nosniff',
          'x-frame-options': 'DENY',
          'referrer-policy': 'no-referrer',
          'cross-origin-opener-policy': 'same-origin',
          'cache-control': 'no-cache',
        })
        .send(asset.body);
    };
    // Relative links in the page resolve under /console/ only with the trailing slash.
    fastify.get('/console', (_request, reply) => reply.redirect('/console/', 302));
    fastify.get('/console/', (_request, reply) => send(reply, 'index.html'));
    fastify.get<{ Params: { file: string } }>('/console/:file', (request, reply) => send(reply, request.params.file));
    new Logger('Console').log('operator console on /console/ (CONSOLE_ENABLED; its data needs the API keys)');
  }
}

/** CONSOLE_ENABLED=false: no route at all. */
@Module({})
class ConsoleDisabledModule {}
