import { Body, Controller, Get, HttpCode, HttpException, HttpStatus, NotFoundException, Param, Post } from '@nestjs/common';
import { requestParsers } from '@seqrec/nest-platform';
import { trainingApi } from './training.api';
import { TrainingInProgressError, TrainingService, type TrainingRun } from './training.service';

const api = { train: requestParsers(trainingApi.train) };

/**
 * `POST /v1/train` starts a run (202 with its id; 409 while another run is in progress; optional
 * body `{ "model": "gru4rec", "epochs": 5 }`), `GET /v1/train/runs/:id` reports it (progress,
 * then version, metrics, promotion), `GET /v1/models` lists the store's versions and the promoted one.
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

  @Get('models')
  async models(): Promise<{ models: Awaited<ReturnType<TrainingService['models']>> }> {
    return { models: await this.training.models() };
  }
}
