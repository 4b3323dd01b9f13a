import { ConflictException, Controller, Get, Inject, Param } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { MAX_ID_LENGTH } from '@seqrec/contracts';
import { describeModels, type ModelStore, type ModelSummary } from '@seqrec/model-store';
import { ITEM_DICTIONARY, PSEUDONYMIZER, SEQUENCE_STORE, SERVICE_NAME, badRequest, type Pseudonymizer } from '@seqrec/nest-platform';
import { CodecError, describeWindow, type ItemDictionary, type SequenceStore } from '@seqrec/window';
import { ModelSlot } from '../serving-model';
import { CONSOLE_OPTIONS } from './console.constants';

export interface ConsoleOptions {
  /** The model the scorer serves (listed even before it has a version). */
  modelName: string;
  store: ModelStore;
  /** Session breaks in the window, as the sequence-builder draws them. */
  sessionGapMs: number;
}

/** What the console shows about the process it runs in. */
export interface ConsoleOverview {
  service: string;
  /** The version this process serves now (null while none is loaded). */
  served: { name: string; version: string; createdAt: number } | null;
  /** Whether this process takes events (`POST /v1/events`): the page offers to post a click only then. */
  ingest: boolean;
  /** Experiments and explanations: not part of seqrec yet (null), the page says so. */
  experiments: null;
  explanations: null;
}

/**
 * The console's reads (admin role, `CONSOLE_ROUTE_RULES`): the process, a user's live window, and
 * the model store's versions with their metrics and training curves. Recommendations come from the
 * scorer's own API, called by the page with the same key.
 */
@Controller('console/api')
export class ConsoleController {
  constructor(
    @Inject(CONSOLE_OPTIONS) private readonly options: ConsoleOptions,
    @Inject(SEQUENCE_STORE) private readonly windows: SequenceStore,
    @Inject(ITEM_DICTIONARY) private readonly items: ItemDictionary,
    @Inject(SERVICE_NAME) private readonly service: string,
    @Inject(PSEUDONYMIZER) private readonly pseudonyms: Pseudonymizer,
    private readonly modules: ModuleRef,
    private readonly adapter: HttpAdapterHost,
  ) {}

  /** The scorer's model slot (a provider of ScoringModule, imported beside this one). */
  private get slot(): ModelSlot {
    return this.modules.get(ModelSlot, { strict: false });
  }

  @Get('overview')
  overview(): ConsoleOverview {
    const m = this.slot.model;
    const fastify = this.adapter.httpAdapter.getInstance<FastifyInstance>();
    return {
      service: this.service,
      served: m ? { name: m.name, version: m.version, createdAt: m.createdAt } : null,
      ingest: fastify.hasRoute({ method: 'POST', url: '/v1/events' }),
      experiments: null,
      explanations: null,
    };
  }

  @Get('users/:userId/window')
  async window(@Param('userId') userId: string) {
    if (userId.length > MAX_ID_LENGTH) throw badRequest('userId', `expected a string of at most ${MAX_ID_LENGTH} characters, got ${userId.length} characters`);
    const [buf] = await this.windows.getMany([this.pseudonyms.userId(userId)]);
    // No window is an answer here, not an error: the page shows it as such.
    if (!buf) return { userId, found: false, bytes: 0, watermark: null, events: [] };
    try {
      return { userId, found: true, bytes: buf.length, ...(await describeWindow(buf, this.items, this.options.sessionGapMs)) };
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      throw new ConflictException(`the stored window of user "${userId}" is corrupt (${err.message}); the sequence-builder rebuilds it with the user's next event`);
    }
  }

  @Get('models')
  async models(): Promise<{ served: string | null; models: ModelSummary[] }> {
    return { served: this.slot.model?.version ?? null, models: await describeModels(this.options.store, [this.options.modelName]) };
  }
}
