import { ConflictException, Controller, Get, Inject, NotFoundException, Param } from '@nestjs/common';
import { MAX_ID_LENGTH, type SubjectKind } from '@seqrec/contracts';
import { ITEM_DICTIONARY, PSEUDONYMIZER, SEQUENCE_STORE, type Pseudonymizer } from '@seqrec/nest-platform';
import { CodecError, describeWindow, type ItemDictionary, type SequenceStore } from '@seqrec/window';
import { SEQUENCING_OPTIONS } from './sequencing.constants';

/**
 * `GET /v1/users/:userId/sequence` and `GET /v1/sessions/:sessionId/sequence`: a user's or an
 * anonymous session's live window, for operators and demos. 409 for a window that does not decode
 * (the builder rebuilds it with the next event).
 */
@Controller('v1')
export class SequenceController {
  constructor(
    @Inject(SEQUENCE_STORE) private readonly store: SequenceStore,
    @Inject(ITEM_DICTIONARY) private readonly items: ItemDictionary,
    @Inject(SEQUENCING_OPTIONS) private readonly options: { sessionGapMs: number },
    @Inject(PSEUDONYMIZER) private readonly pseudonyms: Pseudonymizer,
  ) {}

  @Get('users/:userId/sequence')
  async get(@Param('userId') userId: string) {
    return this.describe('user', userId);
  }

  /** A session's window; after its login (merged, its window deleted) a 404 naming the user. */
  @Get('sessions/:sessionId/sequence')
  async session(@Param('sessionId') sessionId: string) {
    return this.describe('session', sessionId);
  }

  private async describe(kind: SubjectKind, id: string) {
    if (id.length > MAX_ID_LENGTH) throw new NotFoundException(`${kind}Id: longer than ${MAX_ID_LENGTH} characters`);
    const [buf] = await this.store.getMany([kind === 'user' ? this.pseudonyms.userId(id) : id], kind);
    if (!buf) {
      const [into] = kind === 'session' ? await this.store.mergedInto([id]) : [null];
      throw new NotFoundException(into ? `session "${id}" logged in: its events are in user "${into}"'s sequence` : `no sequence for ${kind} "${id}"`);
    }
    try {
      const w = await describeWindow(buf, this.items, this.options.sessionGapMs);
      return { ...(kind === 'user' ? { userId: id } : { sessionId: id }), bytes: buf.length, ...w };
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      throw new ConflictException(`the stored window of ${kind} "${id}" is corrupt (${err.message}); the sequence-builder rebuilds it with the next event`);
    }
  }
}
