import { Body, ConflictException, Controller, Get, HttpCode, HttpException, HttpStatus, NotFoundException, Param, Post } from '@nestjs/common';
import { TrainedBeforeDeletionError, UnknownVersionError } from '@seqrec/model-store';
import { requestParsers } from '@seqrec/nest-platform';
import { trainingApi } from './training.api';
import { AmbiguousVersionError, PromotionNotAnnouncedError, TrainingInProgressError, TrainingService, type ManualPromotion, type TrainingRun } from './training.service';

const api = { train: requestParsers(trainingApi.train), promote: requestParsers(trainingApi.promote) };

/**
 * `POST /v1/train` starts a run (202 with its id; 409 while another run is in progress; optional
 * body `{ "model": "gru4rec", "epochs": 5 }`), `GET /v1/train/runs/:id` reports it (progress,
 * then version, metrics, promotion), `GET /v1/models` lists the store's versions and the promoted one,
 * `POST /v1/models/:version/promote` promotes a stored version (a rollback; 404 unknown, 409 trained
 * before a user deletion).
 * The body is checked against the schema of `training.api.ts` (no body: the configured defaults).
 */
@Controller('v1')
export class TrainingController {
  constructor(private readonly training: TrainingService) {}

  @Post('train')
  @HttpCode(202)
  train(@Body() body: unknown): { runId: string; status: string; model: string; links: { run: string } } {
    const { model, epochs } = api.train.body(body ?? {});
    const overrides = { ...(model !== undefined ? { model } : {}), ...(epochs !== undefined ? { epochs } : {}) };
    try {
      const run = this.training.start('api', overrides);
      return { runId: run.id, status: run.status, model: run.model, links: { run: `/v1/train/runs/${run.id}` } };
    } catch (err) {
      if (err instanceof TrainingInProgressError) {
        throw new HttpException({ statusCode: 409, error: 'Conflict', message: err.message, runId: err.runId }, HttpStatus.CONFLICT);
      }
      throw err;
    }
  }

  @Get('train/runs/:id')
  run(@Param('id') id: string): TrainingRun {
    const run = this.training.getRun(id);
    if (!run) throw new NotFoundException(`no training run ${id}`);
    return run;
  }

  @Post('models/:version/promote')
  @HttpCode(200)
  async promote(@Param() params: unknown, @Body() body: unknown): Promise<ManualPromotion> {
    const { version } = api.promote.params(params);
    const { model, pin } = api.promote.body(body ?? {});
    try {
      return await this.training.promote(version, { ...(model !== undefined ? { model } : {}), ...(pin !== undefined ? { pin } : {}) });
    } catch (err) {
      if (err instanceof UnknownVersionError) throw new NotFoundException({ statusCode: 404, error: 'Not Found', field: 'version', message: err.message });
      if (err instanceof TrainedBeforeDeletionError) {
        throw new ConflictException({
          statusCode: 409,
          error: 'Conflict',
          reason: 'trained_before_deletion',
          message: err.message,
          dataAt: new Date(err.dataAt).toISOString(),
          deletedAt: new Date(err.deletedAt).toISOString(),
        });
      }
      if (err instanceof PromotionNotAnnouncedError) throw new HttpException({ statusCode: 503, error: 'Service Unavailable', message: err.message }, HttpStatus.SERVICE_UNAVAILABLE);
      if (err instanceof AmbiguousVersionError) throw new ConflictException({ statusCode: 409, error: 'Conflict', field: 'model', reason: 'ambiguous_version', message: err.message, models: err.models });
      throw err;
    }
  }

  @Get('models')
  async models(): Promise<{ models: Awaited<ReturnType<TrainingService['models']>> }> {
    return { models: await this.training.models() };
  }
}
