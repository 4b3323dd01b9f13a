import { Controller, Delete, HttpCode, HttpException, HttpStatus, Inject, Logger, Param, Put, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Bus } from '@seqrec/bus';
import { RejectReason, TOPICS, type UserDeletionV1 } from '@seqrec/contracts';
import { BUS, PSEUDONYMIZER, SEQUENCE_STORE, type Pseudonymizer } from '@seqrec/nest-platform';
import type { EraseOutcome, SequenceStore } from '@seqrec/window';
import { badId } from './catalogue';
import type { CatalogueOptions } from './catalogue.consumer';
import { CATALOGUE_OPTIONS } from './ingest.constants';

export interface UserDeletionResponse {
  userId: string;
  status: 'deleted' | 'objected' | 'withdrawn';
  /** The time of the deletion record, epoch ms: events of the user stamped at or before it are ignored (all, for an objection). */
  at: number;
  /** What the state store erased now (the sequence-builder applies the same record again from the topic, idempotently). */
  erased: Pick<EraseOutcome, 'keys' | 'sessions'>;
}

/**
 * The right to be forgotten and to object (docs/privacy.md), for admins:
 * - `DELETE /v1/users/{userId}`: erases the user (window, vector, sessions and their links, and
 *   every event stamped until now from the next model version);
 * - `PUT /v1/users/{userId}/objection`: the user objects to profiling: erased as above, and every
 *   later event is ignored as well (answers for the user are not personalised);
 * - `DELETE /v1/users/{userId}/objection`: the objection withdrawn (events from now on count again).
 *
 * Each erases the state store at once, then publishes a {@link UserDeletionV1} on the compacted
 * deletions topic (the record every consumer and every trainer replay honours; the sequence-builder
 * applies it to the store again). Both steps are idempotent: a retried request (after a 503)
 * deletes again with a later time, which covers the first. Answers 200 with the record's time; 400 for an id that cannot be a user id; 503 +
 * Retry-After when Kafka or Redis did not take it (retry the same request).
 */
@Controller('v1/users')
export class UsersController {
  private readonly log = new Logger(UsersController.name);

  constructor(
    @Inject(BUS) private readonly bus: Bus,
    @Inject(SEQUENCE_STORE) private readonly store: SequenceStore,
    @Inject(PSEUDONYMIZER) private readonly pseudonyms: Pseudonymizer,
    @Inject(CATALOGUE_OPTIONS) private readonly options: CatalogueOptions,
  ) {}

  @Delete(':userId')
  @HttpCode(200)
  remove(@Param('userId') userId: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<UserDeletionResponse> {
    return this.record(userId, false, 'deleted', reply);
  }

  @Put(':userId/objection')
  @HttpCode(200)
  object(@Param('userId') userId: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<UserDeletionResponse> {
    return this.record(userId, true, 'objected', reply);
  }

  @Delete(':userId/objection')
  @HttpCode(200)
  withdraw(@Param('userId') userId: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<UserDeletionResponse> {
    return this.record(userId, false, 'withdrawn', reply);
  }

  private async record(rawId: string, objection: boolean, status: UserDeletionResponse['status'], reply: FastifyReply): Promise<UserDeletionResponse> {
    const bad = badId(rawId, 'user');
    if (bad) throw new HttpException({ statusCode: 400, error: 'Bad Request', reason: RejectReason.InvalidField, field: 'userId', message: `userId: ${bad}` }, HttpStatus.BAD_REQUEST);
    const deletion: UserDeletionV1 = { userId: this.pseudonyms.userId(rawId), at: Date.now(), objection };
    let erased: EraseOutcome;
    try {
      // the store first, so the answer says what this request erased (the builder applies the record too)
      erased = await this.store.erase(deletion);
      await this.bus.publish([{ topic: TOPICS.USER_DELETIONS, key: deletion.userId, value: JSON.stringify(deletion) }]);
    } catch (err) {
      // the user id stays out of the log (docs/privacy.md): the caller has it in its answer
      this.log.warn(`user ${status} at ${deletion.at}: not recorded: ${(err as Error).message}`);
      reply.header('Retry-After', String(this.options.retryAfterSeconds));
      throw new HttpException(
        { statusCode: 503, error: 'Service Unavailable', reason: 'publish_failed', message: `user not ${status}: Kafka or the state store did not take it; retry the same request (it is safe)` },
        HttpStatus.SERVICE_UNAVAILABLE,
      );
    }
    this.log.log(`user ${status} at ${deletion.at}: ${erased.keys} keys erased, ${erased.sessions} linked sessions`);
    return { userId: rawId, status, at: deletion.at, erased: { keys: erased.keys, sessions: erased.sessions } };
  }
}
