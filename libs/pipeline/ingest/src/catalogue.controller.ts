import { randomUUID } from 'node:crypto';
import { Body, Controller, Delete, HttpCode, HttpException, HttpStatus, Inject, Logger, Param, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Bus, OutboundMessage } from '@seqrec/bus';
import { RejectReason, splitJsonArray } from '@seqrec/contracts';
import { BUS } from '@seqrec/nest-platform';
import type { PublishAdmission } from './admission';
import { badItemId, checkItem, itemMessage, itemTombstone } from './catalogue';
import type { CatalogueOptions } from './catalogue.consumer';
import { CATALOGUE_OPTIONS, INGEST_ADMISSION } from './ingest.constants';

export interface ItemResult {
  index: number;
  itemId?: string;
  status: 'accepted' | 'rejected';
  reason?: string;
  field?: string;
  detail?: string;
}

export interface ItemsResponse {
  accepted: number;
  rejected: number;
  results: ItemResult[];
}

/**
 * The catalogue's write front door: `POST /v1/items` (one item object, or an array of 1 to
 * INGEST_MAX_EVENTS_PER_REQUEST) and `DELETE /v1/items/{itemId}`, for producers. Each item is
 * validated on its own bytes as events are (a bad one is answered with its reason and field, and
 * dead-lettered; the others go on); the valid ones are published to the compacted items topic
 * keyed by id, a deletion as a tombstone. A message is the item's whole record, so retrying a
 * request (after a 503, a timeout) leaves the same catalogue: idempotent, no claims needed.
 *
 * Answers: 200 `{accepted, rejected, results}` when at least one item was accepted; 400 naming the
 * field when none was, or the body is not an item or an array of them; 413 over
 * INGEST_MAX_BODY_BYTES; 415 for a body that is not application/json; 503 + Retry-After when Kafka
 * did not take the items (retry the same request).
 */
@Controller('v1/items')
export class CatalogueController {
  private readonly log = new Logger(CatalogueController.name);

  constructor(
    @Inject(BUS) private readonly bus: Bus,
    @Inject(CATALOGUE_OPTIONS) private readonly options: CatalogueOptions,
    @Inject(INGEST_ADMISSION) private readonly admission: PublishAdmission,
  ) {}

  @Post()
  @HttpCode(200)
  async upsert(@Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply): Promise<ItemsResponse> {
    const now = Date.now();
    if (!Buffer.isBuffer(body)) {
      throw new HttpException(
        { statusCode: 415, error: 'Unsupported Media Type', reason: 'content_type', field: 'content-type', message: 'content-type: send an item or an array of items as application/json' },
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      );
    }
    const elements = this.elements(body);
    const requestId = randomUUID();
    const messages: OutboundMessage[] = [];
    const res: ItemsResponse = { accepted: 0, rejected: 0, results: [] };
    elements.forEach(([from, to], index) => {
      const v = checkItem(body.subarray(from, to), { kind: 'http', requestId, index }, now, this.options.maxDeadLetterOriginalBytes);
      if (v.ok) {
        messages.push(itemMessage(v.item));
        res.accepted++;
        res.results.push({ index, itemId: v.item.itemId, status: 'accepted' });
      } else {
        messages.push(v.letter);
        res.rejected++;
        const { reason, field, detail } = v.rejection;
        res.results.push({ index, ...(v.itemId ? { itemId: v.itemId } : {}), status: 'rejected', reason, ...(field ? { field } : {}), detail });
      }
    });
    await this.publish(body.length, messages, reply, `POST /v1/items ${requestId}`);
    if (res.accepted === 0) {
      const first = res.results[0]!;
      const field = `/${first.index}${first.field ?? ''}`;
      throw new HttpException({ statusCode: 400, error: 'Bad Request', reason: first.reason, field, message: `${field}: ${first.detail}`, ...res }, HttpStatus.BAD_REQUEST);
    }
    return res;
  }

  @Delete(':itemId')
  @HttpCode(200)
  async remove(@Param('itemId') itemId: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<{ itemId: string; status: 'deleted' }> {
    const bad = badItemId(itemId);
    if (bad) throw new HttpException({ statusCode: 400, error: 'Bad Request', reason: RejectReason.InvalidField, field: 'itemId', message: `itemId: ${bad}` }, HttpStatus.BAD_REQUEST);
    await this.publish(itemId.length, [itemTombstone(itemId)], reply, `DELETE /v1/items/${itemId}`);
    return { itemId, status: 'deleted' };
  }

  /** The body's items as byte ranges: one object, or the elements of an array. */
  private elements(body: Buffer): Array<[number, number]> {
    let i = 0;
    while (i < body.length && (body[i] === 0x20 || body[i] === 0x0a || body[i] === 0x0d || body[i] === 0x09)) i++;
    if (body[i] !== 0x5b) return [[0, body.length]]; // not '[': one item (parseItem says what is wrong with it)
    const split = splitJsonArray(body);
    if (!split.ok) throw badRequest(RejectReason.InvalidJson, `body: not valid JSON: ${split.detail}`);
    const n = split.elements.length;
    if (n === 0 || n > this.options.maxEventsPerRequest) throw badRequest('batch_size', `body: expected 1 to ${this.options.maxEventsPerRequest} items, got ${n}`);
    return split.elements;
  }

  private async publish(bytes: number, messages: OutboundMessage[], reply: FastifyReply, what: string): Promise<void> {
    const refusal = this.admission.refusal(bytes, this.bus.isReady());
    try {
      if (refusal) throw new Error(refusal);
      await this.admission.publish(bytes, () => this.bus.publish(messages));
    } catch (err) {
      this.log.warn(`${what}: not published: ${(err as Error).message}`);
      reply.header('Retry-After', String(this.options.retryAfterSeconds));
      throw new HttpException(
        { statusCode: 503, error: 'Service Unavailable', reason: refusal ?? 'publish_failed', message: 'items not accepted: Kafka did not take them; retry the same request (it is safe)' },
        HttpStatus.SERVICE_UNAVAILABLE,
      );
    }
  }
}

function badRequest(reason: string, message: string): HttpException {
  return new HttpException({ statusCode: 400, error: 'Bad Request', reason, field: 'body', message }, HttpStatus.BAD_REQUEST);
}
