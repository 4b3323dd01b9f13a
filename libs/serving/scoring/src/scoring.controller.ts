import { Body, Controller, Get, HttpCode, HttpException, HttpStatus, Inject, Param, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { requestParsers } from '@seqrec/nest-platform';
import { QueueFullError } from './micro-batcher';
import { rulesFromQuery, type RulesInput } from './rules';
import { DEFAULT_K, scorerApi, type RankAnswer, type RecommendationsAnswer, type SimilarAnswer } from './scoring.api';
import { SCORING_METRICS } from './scoring.constants';
import type { ScoringMetrics } from './scoring.metrics';
import { NoModelError, ScoringService } from './scoring.service';

/**
 * The scorer's API: recommendations from the live window, re-ranking of the caller's candidates,
 * similar items, and batch variants. Requests are checked against the schemas of `scoring.api.ts`
 * (with the configured limits), which `/openapi.json` is written from.
 * Credentials (client role) and their rate limits: the platform's guard, see `SCORING_ROUTE_RULES`.
 */
@Controller('v1')
export class ScoringController {
  private readonly api;

  constructor(
    private readonly scoring: ScoringService,
    @Inject(SCORING_METRICS) private readonly metrics: ScoringMetrics,
  ) {
    const { maxK, maxBatchUsers, maxCandidates } = scoring.options;
    const routes = scorerApi({ maxK, maxBatchUsers, maxCandidates });
    this.api = {
      recommendations: requestParsers(routes.recommendations),
      recommendationsBatch: requestParsers(routes.recommendationsBatch),
      rank: requestParsers(routes.rank),
      rankBatch: requestParsers(routes.rankBatch),
      similar: requestParsers(routes.similar),
    };
  }

  @Get('users/:userId/recommendations')
  async recommendations(@Param() params: unknown, @Query() query: unknown, @Res({ passthrough: true }) reply: FastifyReply): Promise<RecommendationsAnswer> {
    const { k = DEFAULT_K, ...ruleParams } = this.api.recommendations.query(query);
    const { userId } = this.api.recommendations.params(params);
    let rules: RulesInput;
    try {
      rules = rulesFromQuery(ruleParams);
    } catch (err) {
      throw new HttpException({ statusCode: 400, error: 'Bad Request', field: 'excludeInteracted', message: `excludeInteracted: ${(err as Error).message}` }, HttpStatus.BAD_REQUEST);
    }
    return this.guarded(reply, () => this.scoring.recommend(userId, k, rules));
  }

  @Post('recommendations/batch')
  @HttpCode(200)
  async recommendationsBatch(@Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply): Promise<{ results: RecommendationsAnswer[] }> {
    const { userIds, k = DEFAULT_K, rules } = this.api.recommendationsBatch.body(body);
    return this.guarded(reply, async () => ({ results: await this.scoring.recommendMany(userIds, k, rules) }));
  }

  @Post('rank')
  @HttpCode(200)
  async rank(@Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply): Promise<RankAnswer> {
    const req = this.api.rank.body(body);
    return this.guarded(reply, () => this.scoring.rank(req));
  }

  @Post('rank/batch')
  @HttpCode(200)
  async rankBatch(@Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply): Promise<{ results: RankAnswer[] }> {
    const { requests } = this.api.rankBatch.body(body);
    return this.guarded(reply, async () => ({ results: await this.scoring.rankMany(requests) }));
  }

  @Get('items/:itemId/similar')
  async similar(@Param() params: unknown, @Query() query: unknown, @Res({ passthrough: true }) reply: FastifyReply): Promise<SimilarAnswer> {
    const { k = DEFAULT_K } = this.api.similar.query(query);
    const { itemId } = this.api.similar.params(params);
    return this.guarded(reply, () => this.scoring.similar(itemId, k));
  }

  private async guarded<T>(reply: FastifyReply, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      if (err instanceof QueueFullError) {
        this.metrics.shed.inc({ reason: err.reason });
        reply.header('Retry-After', '1');
        throw new HttpException({ statusCode: 429, error: 'Too Many Requests', message: err.message }, HttpStatus.TOO_MANY_REQUESTS);
      }
      if (err instanceof NoModelError) {
        this.metrics.shed.inc({ reason: 'no_model' });
        reply.header('Retry-After', '5');
        throw new HttpException({ statusCode: 503, error: 'Service Unavailable', message: err.message }, HttpStatus.SERVICE_UNAVAILABLE);
      }
      throw err;
    }
  }
}
