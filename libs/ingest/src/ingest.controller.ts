import { randomUUID } from 'node:crypto';
import { Body, Controller, HttpCode, HttpException, HttpStatus, Inject, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Bus } from '@seqrec/bus';
import { BUS } from '@seqrec/nest-platform';
import { EventIngestor, type IngestOutcome } from './event-ingestor';
import { INGEST_METRICS, INGEST_OPTIONS } from './ingest.constants';
import { countOutcomes, type IngestMetrics } from './ingest.metrics';

export interface IngestHttpOptions {
  maxEventsPerRequest: number;
}

export interface EventResult {
  index: number;
  eventId?: string;
  status: IngestOutcome['status'];
  reason?: string;
  field?: string;
  detail?: string;
}

export interface IngestResponse {
  accepted: number;
  duplicates: number;
  rejected: number;
  results: EventResult[];
}

/**
 * `POST /v1/events`: a JSON array of raw events. Answers 200 with one result per event (accepted,
 * duplicate, or rejected with the reason and field; rejected ones also go to the dead-letter topic),
 * 400 naming the problem when the body is not an array of at most INGEST_MAX_EVENTS_PER_REQUEST
 * items, 413 above INGEST_MAX_BODY_BYTES, 503 with Retry-After when the bus cannot take the events
 * (nothing was accepted then: retry the whole request).
 */
@Controller('v1/events')
export class IngestController {
  constructor(
    private readonly ingestor: EventIngestor,
    @Inject(BUS) private readonly bus: Bus,
    @Inject(INGEST_OPTIONS) private readonly options: IngestHttpOptions,
    @Inject(INGEST_METRICS) private readonly metrics: IngestMetrics,
  ) {}

  @Post()
  @HttpCode(200)
  async ingest(@Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply): Promise<IngestResponse> {
    if (!Array.isArray(body)) {
      throw new HttpException(
        { statusCode: 400, error: 'Bad Request', field: 'body', message: 'body: expected a JSON array of events' },
        HttpStatus.BAD_REQUEST,
      );
    }
    if (body.length === 0 || body.length > this.options.maxEventsPerRequest) {
      throw new HttpException(
        {
          statusCode: 400,
          error: 'Bad Request',
          field: 'body',
          message: `body: expected 1 to ${this.options.maxEventsPerRequest} events, got ${body.length}`,
        },
        HttpStatus.BAD_REQUEST,
      );
    }
    const end = this.metrics.batchDuration.startTimer({ source: 'http' });
    const requestId = randomUUID();
    const result = await this.ingestor.ingest(
      body.map((payload, index) => ({
        payload,
        source: { kind: 'http', requestId, index },
        claimSource: `h:${requestId}:${index}`,
      })),
    );
    try {
      await this.bus.publish(result.messages);
    } catch (err) {
      await this.ingestor.releaseQuietly(result.claims);
      reply.header('Retry-After', '1');
      throw new HttpException(
        { statusCode: 503, error: 'Service Unavailable', message: `events not accepted, retry: ${(err as Error).message}` },
        HttpStatus.SERVICE_UNAVAILABLE,
      );
    }
    countOutcomes(this.metrics, 'http', result.outcomes);
    end();
    return summarize(result.outcomes);
  }
}

function summarize(outcomes: IngestOutcome[]): IngestResponse {
  const res: IngestResponse = { accepted: 0, duplicates: 0, rejected: 0, results: [] };
  outcomes.forEach((o, index) => {
    if (o.status === 'accepted') {
      res.accepted++;
      res.results.push({ index, eventId: o.event.eventId, status: 'accepted' });
    } else if (o.status === 'duplicate') {
      res.duplicates++;
      res.results.push({ index, eventId: o.eventId, status: 'duplicate' });
    } else {
      res.rejected++;
      res.results.push({
        index,
        ...(o.eventId ? { eventId: o.eventId } : {}),
        status: 'rejected',
        reason: o.rejection.reason,
        ...(o.rejection.field ? { field: o.rejection.field } : {}),
        detail: o.rejection.detail,
      });
    }
  });
  return res;
}
