import { Controller, Get, HttpException, HttpStatus, Param, Query } from '@nestjs/common';
import { MAX_ID_LENGTH } from '@seqrec/contracts';
import { EmbeddingService } from './embedding.service';

const MAX_K = 200;

function fail(status: number, field: string, message: string): HttpException {
  return new HttpException({ statusCode: status, field, message: `${field}: ${message}` }, status);
}

function checkId(v: string, field: string): void {
  if (v.length === 0 || v.length > MAX_ID_LENGTH) throw fail(400, field, `expected 1 to ${MAX_ID_LENGTH} characters`);
}

/**
 * `GET /v1/items/:itemId/vector`, `GET /v1/items/:itemId/similar?k`, `GET /v1/users/:userId/vector`,
 * `GET /v1/users/:userId/features`. Item answers name the model version; an unknown item is a 404
 * for its vector and gets popular items as similar items (`fallback: "popularity"`).
 */
@Controller('v1')
export class EmbeddingController {
  constructor(private readonly embedding: EmbeddingService) {}

  @Get('items/:itemId/vector')
  async itemVector(@Param('itemId') itemId: string) {
    checkId(itemId, 'itemId');
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
  async similar(@Param('itemId') itemId: string, @Query('k') k?: string) {
    checkId(itemId, 'itemId');
    const kk = k === undefined ? 20 : /^\d+$/.test(k) ? Number(k) : NaN;
    if (!(kk >= 1 && kk <= MAX_K)) throw fail(400, 'k', `expected an integer from 1 to ${MAX_K}`);
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
  async userVector(@Param('userId') userId: string) {
    checkId(userId, 'userId');
    const v = await this.embedding.userVector(userId);
    if (!v) throw fail(404, 'userId', `no stored vector for user "${userId}"`);
    return { userId, model: { name: this.embedding.options.modelName, version: v.version }, lastTs: v.lastTs, events: v.events, current: v.current, dim: v.vector.length, vector: Array.from(v.vector) };
  }

  @Get('users/:userId/features')
  async features(@Param('userId') userId: string) {
    checkId(userId, 'userId');
    return this.embedding.features(userId);
  }

  private acquire() {
    try {
      return this.embedding.acquire();
    } catch (err) {
      throw new HttpException({ statusCode: 503, message: (err as Error).message }, HttpStatus.SERVICE_UNAVAILABLE);
    }
  }
}
