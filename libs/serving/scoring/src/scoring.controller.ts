import { Body, Controller, Get, HttpCode, HttpException, HttpStatus, Inject, Param, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { PSEUDONYMIZER, badRequest, requestParsers, type Pseudonymizer } from '@seqrec/nest-platform';
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
    @Inject(PSEUDONYMIZER) private readonly pseudonyms: Pseudonymizer,
  ) {
    const { maxK, maxBatchUsers, maxCandidates } = scoring.options;
    const routes = scorerApi({ maxK, maxBatchUsers, maxCandidates });
    this.api = {
      recommendations: requestParsers(routes.recommendations),
      sessionRecommendations: requestParsers(routes.sessionRecommendations),
      recommendationsBatch: requestParsers(routes.recommendationsBatch),
      rank: requestParsers(routes.rank),
      rankBatch: requestParsers(routes.rankBatch),
      similar: requestParsers(routes.similar),
    };
  }

  @Get('users/:userId/recommendations')
  async recommendations(@Param() params: unknown, @Query() query: unknown, @Res({ passthrough: true }) reply: FastifyReply): Promise<RecommendationsAnswer> {
    const { k = DEFAULT_K, explain, ...ruleParams } = this.api.recommendations.query(query);
    const { userId } = this.api.recommendations.params(params);
    const rules = queryRules(ruleParams);
    return this.guarded(reply, async () => asUser((await this.scoring.recommendMany([this.pseudonyms.userId(userId)], k, rules, explain === 'true'))[0]!, userId));
  }

  @Get('sessions/:sessionId/recommendations')
  async sessionRecommendations(@Param() params: unknown, @Query() query: unknown, @Res({ passthrough: true }) reply: FastifyReply): Promise<RecommendationsAnswer> {
    const { k = DEFAULT_K, explain, ...ruleParams } = this.api.sessionRecommendations.query(query);
    const { sessionId } = this.api.sessionRecommendations.params(params);
    const rules = queryRules(ruleParams);
    return this.guarded(reply, async () => (await this.scoring.recommendSessions([sessionId], k, rules, explain === 'true'))[0]!);
  }

  @Post('recommendations/batch')
  @HttpCode(200)
  async recommendationsBatch(@Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply): Promise<{ results: RecommendationsAnswer[] }> {
    const { userIds, k = DEFAULT_K, rules } = this.api.recommendationsBatch.body(body);
    return this.guarded(reply, async () => ({
      results: (await this.scoring.recommendMany(userIds.map((u) => this.pseudonyms.userId(u)), k, rules)).map((a, i) => asUser(a, userIds[i])),
    }));
  }

  @Post('rank')
  @HttpCode(200)
  async rank(@Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply): Promise<RankAnswer> {
    const req = oneSubject(this.api.rank.body(body), '');
    const userId = req.userId;
    return this.guarded(reply, async () => asUser(await this.scoring.rank(this.pseudonymous(req)), userId));
  }

  @Post('rank/batch')
  @HttpCode(200)
  async rankBatch(@Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply): Promise<{ results: RankAnswer[] }> {
    const { requests } = this.api.rankBatch.body(body);
    requests.forEach((r, i) => oneSubject(r, `requests/${i}/`));
    return this.guarded(reply, async () => ({ results: (await this.scoring.rankMany(requests.map((r) => this.pseudonymous(r)))).map((a, i) => asUser(a, requests[i]!.userId)) }));
  }

  @Get('items/:itemId/similar')
  async similar(@Param() params: unknown, @Query() query: unknown, @Res({ passthrough: true }) reply: FastifyReply): Promise<SimilarAnswer> {
    const { k = DEFAULT_K } = this.api.similar.query(query);
    const { itemId } = this.api.similar.params(params);
    return this.guarded(reply, () => this.scoring.similar(itemId, k));
  }

  /** The request with its user id pseudonymised (PRIVACY_PSEUDONYMIZE): the state is stored under the pseudonym. */
  private pseudonymous<T extends { userId?: string }>(req: T): T {
    return req.userId === undefined || !this.pseudonyms.enabled ? req : { ...req, userId: this.pseudonyms.userId(req.userId) };
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

/** The answer naming the user as the caller did (not by the pseudonym the state is stored under). */
function asUser<T extends { userId?: string }>(answer: T, userId: string | undefined): T {
  return userId === undefined || answer.userId === undefined || answer.userId === userId ? answer : { ...answer, userId };
}

/** A rank request names exactly one shopper: a user or an anonymous session. */
function oneSubject<T extends { userId?: string; sessionId?: string; items: unknown[]; engineScores?: unknown[]; enginePositions?: unknown[] }>(req: T, at: string): T {
  if ((req.userId === undefined) === (req.sessionId === undefined)) {
    throw badRequest(`${at}userId`, req.userId === undefined ? 'required, or sessionId for an anonymous shopper' : 'give userId or sessionId, not both');
  }
  if (req.engineScores !== undefined && req.enginePositions !== undefined) throw badRequest(`${at}enginePositions`, 'give engineScores or enginePositions, not both');
  for (const field of ['engineScores', 'enginePositions'] as const) {
    const v = req[field];
    if (v !== undefined && v.length !== req.items.length) throw badRequest(`${at}${field}`, `one per candidate: ${v.length} for ${req.items.length} items`);
  }
  return req;
}

/** The rules of a recommendations query; a bad value is a 400 naming its parameter. */
function queryRules(params: Parameters<typeof rulesFromQuery>[0]): RulesInput {
  try {
    return rulesFromQuery(params);
  } catch (err) {
    throw new HttpException({ statusCode: 400, error: 'Bad Request', field: 'excludeInteracted', message: `excludeInteracted: ${(err as Error).message}` }, HttpStatus.BAD_REQUEST);
  }
}
