import { Inject, Module, type DynamicModule, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import type { CleanedEnv } from '@seqrec/config';
import type { Registry } from '@seqrec/metrics';
import { FsModelStore } from '@seqrec/model-store';
import { METRICS_REGISTRY, REDIS, REDIS_KEYS } from '@seqrec/nest-platform';
import type { RedisKeys } from '@seqrec/contracts';
import { MemoryExperimentStore, RedisExperimentStore, type ExperimentStore } from '@seqrec/experiments';
import type { RedisClient } from '@seqrec/redis';
import { EXPERIMENT_METRICS, EXPERIMENT_STORE } from './experiments/experiments.constants';
import { createExperimentMetrics } from './experiments/experiment.metrics';
import { ExperimentsConsumer } from './experiments/experiments.consumer';
import { ExperimentsController } from './experiments/experiments.controller';
import { ExperimentsService } from './experiments/experiments.service';
import { ShadowScoring } from './experiments/shadow.service';
import { ModelLoader } from './model-loader.service';
import { ModelsConsumer } from './models.consumer';
import { OpenApiController } from './openapi.controller';
import { OverloadDetector } from './overload';
import { PopularityFallback } from './popularity-fallback';
import { MODEL_STORE, SCORING_METRICS, SCORING_OPTIONS } from './scoring.constants';
import { ScoringController } from './scoring.controller';
import type { scoringEnv } from './scoring.env';
import { createScoringMetrics, type ScoringMetrics } from './scoring.metrics';
import { ScoringService, type ScoringOptions } from './scoring.service';
import { ModelSlot } from './serving-model';
import { CatalogueFeed } from './catalogue.feed';
import { CatalogueView } from './catalogue-view';
import { indexLists, indexMinRecall, newItemBoost, ruleDefaults, searchBlendWeight, shadowMaxLoad } from './scoring.env';

/** The scorer: served model with hot swap, micro-batched scoring from live windows, HTTP API, metrics. */
@Module({})
export class ScoringModule implements OnModuleInit, OnApplicationShutdown {
  private overload: OverloadDetector | null = null;

  constructor(
    private readonly adapter: HttpAdapterHost,
    @Inject(SCORING_METRICS) private readonly metrics: ScoringMetrics,
    @Inject(SCORING_OPTIONS) private readonly options: ScoringOptions,
  ) {}

  onApplicationShutdown(): void {
    this.overload?.close();
  }

  static register(env: CleanedEnv<typeof scoringEnv>): DynamicModule {
    const options: ScoringOptions = {
      modelName: env.MODEL_NAME,
      maxBatch: env.SCORER_MAX_BATCH,
      maxWaitMs: env.SCORER_MAX_WAIT_MS,
      maxQueue: env.SCORER_MAX_QUEUE,
      maxQueueWaitMs: env.SCORER_MAX_QUEUE_WAIT_MS,
      maxCandidates: env.SCORER_MAX_CANDIDATES,
      maxK: env.SCORER_MAX_K,
      maxBatchUsers: env.SCORER_MAX_BATCH_USERS,
      rules: ruleDefaults(env),
      searchBlendWeight: searchBlendWeight(env),
      pollSeconds: env.SCORER_MODEL_POLL_SECONDS,
      trendingCacheMs: env.SCORER_TRENDING_CACHE_MS,
      useStoredVectors: env.SCORER_USE_USER_VECTORS,
      exactTopK: env.SCORER_EXACT_TOPK as ScoringOptions['exactTopK'],
      indexLists: indexLists(env),
      indexProbes: env.SCORER_INDEX_PROBES,
      indexMinRecall: indexMinRecall(env),
      maxEventLoopDelayMs: env.SCORER_MAX_EVENT_LOOP_DELAY_MS,
      experimentPollMs: env.SCORER_EXPERIMENT_POLL_MS,
      feedbackJoin: env.SCORER_FEEDBACK_JOIN,
      shadowMaxLoad: shadowMaxLoad(env),
      backend: env,
    };
    const slot = new ModelSlot();
    return {
      module: ScoringModule,
      // the feedback join (and the shadow it feeds) only where SCORER_FEEDBACK_JOIN: off the serving replicas in k8s
      controllers: [ScoringController, OpenApiController, ModelsConsumer, CatalogueFeed, ExperimentsController, ...(options.feedbackJoin ? [ExperimentsConsumer] : [])],
      providers: [
        { provide: SCORING_OPTIONS, useValue: options },
        { provide: MODEL_STORE, useValue: new FsModelStore(env.MODEL_STORE_DIR) },
        { provide: ModelSlot, useValue: slot },
        {
          provide: SCORING_METRICS,
          inject: [METRICS_REGISTRY],
          useFactory: (r: Registry) => createScoringMetrics(r, () => slot.model?.createdAt ?? null),
        },
        {
          provide: EXPERIMENT_STORE,
          inject: [REDIS, REDIS_KEYS],
          useFactory: (redis: RedisClient | null, keys: RedisKeys): ExperimentStore => (redis ? new RedisExperimentStore(redis, keys) : new MemoryExperimentStore()),
        },
        { provide: EXPERIMENT_METRICS, inject: [METRICS_REGISTRY], useFactory: (r: Registry) => createExperimentMetrics(r) },
        ExperimentsService,
        ModelLoader,
        PopularityFallback,
        { provide: CatalogueView, useValue: new CatalogueView(newItemBoost(env)) },
        ScoringService,
        ShadowScoring,
      ],
      exports: [ScoringService, ModelLoader, ModelSlot, CatalogueView, ExperimentsService],
    };
  }

  onModuleInit(): void {
    const fastify = this.adapter.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return;
    const maxDelay = this.options.maxEventLoopDelayMs;
    if (maxDelay > 0) {
      this.overload = new OverloadDetector(maxDelay);
      const detector = this.overload;
      // Before anything else is done for the request: a shed answer must cost next to nothing.
      fastify.addHook('onRequest', (request, reply, done) => {
        if (!detector.overloaded || !request.url.startsWith('/v1/')) return done();
        this.metrics.shed.inc({ reason: 'event_loop' });
        void reply
          .code(503)
          .header('Retry-After', '1')
          .send({
            statusCode: 503,
            error: 'Service Unavailable',
            message: `scorer overloaded: event-loop lag ${Math.round(detector.lastDelayMs)} ms is above SCORER_MAX_EVENT_LOOP_DELAY_MS (${maxDelay})`,
          });
      });
    }
    // Request metrics in one place, for every status (including 4xx from validation and guards).
    fastify.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url;
      if (route && route.startsWith('/v1/')) {
        const labels = { route: `${request.method} ${route}`, status: String(reply.statusCode) };
        this.metrics.requests.inc(labels);
        this.metrics.requestDuration.observe(labels, reply.elapsedTime / 1000);
      }
      done();
    });
  }
}
