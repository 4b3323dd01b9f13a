import { Body, Controller, Get, HttpCode, HttpException, HttpStatus, Inject, Param, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { MAX_ID_LENGTH } from '@seqrec/contracts';
import { QueueFullError } from './micro-batcher';
import { SCORING_METRICS } from './scoring.constants';
import type { ScoringMetrics } from './scoring.metrics';
import { NoModelError, ScoringService, type RankRequest } from './scoring.service';

const DEFAULT_K = 20;

export function badRequest(field: string, message: string): HttpException {
  return new HttpException({ statusCode: 400, error: 'Bad Request', field, message: `${field}: ${message}` }, HttpStatus.BAD_REQUEST);
}

/**
 * The scorer's API: recommendations from the live window, re-ranking of the caller's candidates,
 * similar items, and batch variants. See `apps/scorer/openapi.json` (served at `/openapi.json`).
 * Credentials (client role) and their rate limits: the platform's guard, see `SCORING_ROUTE_RULES`.
 */
@Controller('v1')
export class ScoringController {
  constructor(
    private readonly scoring: ScoringService,
    @Inject(SCORING_METRICS) private readonly metrics: ScoringMetrics,
  ) {}

  @Get('users/:userId/recommendations')
  async recommendations(@Param('userId') userId: string, @Query('k') k: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    const kk = this.parseK(k, 'k');
    checkId(userId, 'userId');
    return this.guarded(reply, () => this.scoring.recommend(userId, kk));
  }

  @Post('recommendations/batch')
  @HttpCode(200)
  async recommendationsBatch(@Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    const b = asObject(body);
    const userIds = b['userIds'];
    if (!Array.isArray(userIds) || userIds.length === 0 || userIds.length > this.scoring.options.maxBatchUsers) {
      throw badRequest('userIds', `expected an array of 1 to ${this.scoring.options.maxBatchUsers} user ids`);
    }
    userIds.forEach((u, i) => checkId(u, `userIds/${i}`));
    const k = this.parseK(b['k'], 'k');
    return this.guarded(reply, async () => ({ results: await this.scoring.recommendMany(userIds as string[], k) }));
  }

  @Post('rank')
  @HttpCode(200)
  async rank(@Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    const req = this.parseRank(body, '');
    return this.guarded(reply, () => this.scoring.rank(req));
  }

  @Post('rank/batch')
  @HttpCode(200)
  async rankBatch(@Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    const requests = asObject(body)['requests'];
    if (!Array.isArray(requests) || requests.length === 0 || requests.length > this.scoring.options.maxBatchUsers) {
      throw badRequest('requests', `expected an array of 1 to ${this.scoring.options.maxBatchUsers} rank requests`);
    }
    const reqs = requests.map((r, i) => this.parseRank(r, `requests/${i}/`));
    return this.guarded(reply, async () => ({ results: await this.scoring.rankMany(reqs) }));
  }

  @Get('items/:itemId/similar')
  async similar(@Param('itemId') itemId: string, @Query('k') k: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    const kk = this.parseK(k, 'k');
    checkId(itemId, 'itemId');
    return this.guarded(reply, () => this.scoring.similar(itemId, kk));
  }

  private parseK(raw: unknown, field: string): number {
    if (raw === undefined) return DEFAULT_K;
    const k = typeof raw === 'number' ? raw : /^\d+$/.test(String(raw)) ? Number(raw) : NaN;
    if (!Number.isInteger(k) || k < 1 || k > this.scoring.options.maxK) {
      throw badRequest(field, `expected an integer from 1 to ${this.scoring.options.maxK}, got ${JSON.stringify(raw)}`);
    }
    return k;
  }

  private parseRank(body: unknown, path: string): RankRequest {
    const b = asObject(body, path || 'body');
    checkId(b['userId'], `${path}userId`);
    const items = b['items'];
    const max = this.scoring.options.maxCandidates;
    if (!Array.isArray(items) || items.length === 0 || items.length > max) {
      throw badRequest(`${path}items`, `expected an array of 1 to ${max} item ids`);
    }
    items.forEach((it, i) => checkId(it, `${path}items/${i}`));
    const sort = b['sort'];
    if (sort !== undefined && typeof sort !== 'boolean') throw badRequest(`${path}sort`, 'expected a boolean');
    return { userId: b['userId'] as string, items: items as string[], sort: sort === true };
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

function asObject(body: unknown, field = 'body'): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest(field, 'expected a JSON object');
  return body as Record<string, unknown>;
}

function checkId(v: unknown, field: string): void {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_ID_LENGTH) {
    throw badRequest(field, `expected a string of 1 to ${MAX_ID_LENGTH} characters`);
  }
}
