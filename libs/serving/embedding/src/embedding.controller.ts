import { Controller, Get, HttpException, HttpStatus, Inject, Param, Query } from '@nestjs/common';
import { PSEUDONYMIZER, requestParsers, type Pseudonymizer } from '@seqrec/nest-platform';
import { DEFAULT_SIMILAR_K, embeddingApi } from './embedding.api';
import { EmbeddingService } from './embedding.service';

function fail(status: number, field: string, message: string): HttpException {
  return new HttpException({ statusCode: status, field, message: `${field}: ${message}` }, status);
}

const api = {
  itemVector: requestParsers(embeddingApi.itemVector),
  similar: requestParsers(embeddingApi.similar),
  userVector: requestParsers(embeddingApi.userVector),
  features: requestParsers(embeddingApi.features),
  sessionFeatures: requestParsers(embeddingApi.sessionFeatures),
};

/**
 * `GET /v1/items/:itemId/vector`, `GET /v1/items/:itemId/similar?k`, `GET /v1/users/:userId/vector`,
 * `GET /v1/users/:userId/features`, `GET /v1/sessions/:sessionId/features`. Item answers name the model version; an unknown item is a 404
 * for its vector and gets popular items as similar items (`fallback: "popularity"`). Requests are
 * checked against the schemas of `embedding.api.ts`.
 */
@Controller('v1')
export class EmbeddingController {
  constructor(
    private readonly embedding: EmbeddingService,
    @Inject(PSEUDONYMIZER) private readonly pseudonyms: Pseudonymizer,
  ) {}

  @Get('items/:itemId/vector')
  async itemVector(@Param() params: unknown) {
    const { itemId } = api.itemVector.params(params);
    const model = this.acquire();
    try {
      const ix = model.indexOf(itemId);
      if (!ix) throw fail(404, 'itemId', `item "${itemId}" is not in model ${model.name}@${model.version}`);
      if (model.graph) throw fail(409, 'itemId', `model ${model.name}@${model.version} is a graph model (${model.graph.model.rule.kind}): it has no item vectors`);
      const v = await model.itemVector(ix);
      return { itemId, model: { name: model.name, version: model.version }, dim: v.length, vector: Array.from(v) };
    } finally {
      model.release();
    }
  }

  @Get('items/:itemId/similar')
  async similar(@Param() params: unknown, @Query() query: unknown) {
    const { itemId } = api.similar.params(params);
    const { k: kk = DEFAULT_SIMILAR_K } = api.similar.query(query);
    const model = this.acquire();
    try {
      const ix = model.indexOf(itemId);
      const vocab = model.artifact.vocabulary;
      const ref = { name: model.name, version: model.version };
      if (!ix) {
        const items = Array.from(model.artifact.popularOrder.slice(0, kk), (i) => ({ itemId: vocab[i]!, score: model.artifact.popularity[i]! }));
        return { itemId, items, model: ref, fallback: 'popularity', fallbackReason: 'unknown_item' };
      }
      const top = await model.similar(ix, kk);
      return { itemId, items: Array.from(top.items, (i, q) => ({ itemId: vocab[i]!, score: top.scores[q]! })), model: ref };
    } finally {
      model.release();
    }
  }

  @Get('users/:userId/vector')
  async userVector(@Param() params: unknown) {
    const { userId } = api.userVector.params(params);
    const v = await this.embedding.userVector(this.pseudonyms.userId(userId));
    if (!v) throw fail(404, 'userId', `no stored vector for user "${userId}"`);
    return { userId, model: { name: this.embedding.options.modelName, version: v.version }, lastTs: v.lastTs, events: v.events, current: v.current, dim: v.vector.length, vector: Array.from(v.vector) };
  }

  @Get('users/:userId/features')
  async features(@Param() params: unknown) {
    const { userId } = api.features.params(params);
    return { ...(await this.embedding.features(this.pseudonyms.userId(userId))), userId };
  }

  @Get('sessions/:sessionId/features')
  async sessionFeatures(@Param() params: unknown) {
    const { sessionId } = api.sessionFeatures.params(params);
    return this.embedding.features(sessionId, 'session');
  }

  private acquire() {
    try {
      return this.embedding.acquire();
    } catch (err) {
      throw new HttpException({ statusCode: 503, message: (err as Error).message }, HttpStatus.SERVICE_UNAVAILABLE);
    }
  }
}
