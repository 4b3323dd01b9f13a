import { ConflictException, Controller, Get, Inject, NotFoundException, Param } from '@nestjs/common';
import { MAX_ID_LENGTH } from '@seqrec/contracts';
import { ITEM_DICTIONARY, SEQUENCE_STORE } from '@seqrec/nest-platform';
import { CodecError, describeWindow, type ItemDictionary, type SequenceStore } from '@seqrec/window';
import { SEQUENCING_OPTIONS } from './sequencing.constants';

/**
 * `GET /v1/users/:userId/sequence`: a user's live window, for operators and demos. 409 for a window
 * that does not decode (the builder rebuilds it with the user's next event).
 */
@Controller('v1/users')
export class SequenceController {
  constructor(
    @Inject(SEQUENCE_STORE) private readonly store: SequenceStore,
    @Inject(ITEM_DICTIONARY) private readonly items: ItemDictionary,
    @Inject(SEQUENCING_OPTIONS) private readonly options: { sessionGapMs: number },
  ) {}

  @Get(':userId/sequence')
  async get(@Param('userId') userId: string) {
    if (userId.length > MAX_ID_LENGTH) throw new NotFoundException(`userId: longer than ${MAX_ID_LENGTH} characters`);
    const [buf] = await this.store.getMany([userId]);
    if (!buf) throw new NotFoundException(`no sequence for user "${userId}"`);
    try {
      const w = await describeWindow(buf, this.items, this.options.sessionGapMs);
      return { userId, bytes: buf.length, ...w };
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      throw new ConflictException(`the stored window of user "${userId}" is corrupt (${err.message}); the sequence-builder rebuilds it with the user's next event`);
    }
  }
}
