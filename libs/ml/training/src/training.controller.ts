import { Body, Controller, Get, HttpCode, HttpException, HttpStatus, NotFoundException, Param, Post } from '@nestjs/common';
import { TRAINABLE_MODELS, isTrainableModel, type TrainableModel } from './pipeline';
import { TrainingInProgressError, TrainingService, type TrainingRun } from './training.service';

/**
 * `POST /v1/train` starts a run (202 with its id; 409 while another run is in progress; optional
 * body `{ "model": "gru4rec", "epochs": 5 }`), `GET /v1/train/runs/:id` reports it (progress,
 * then version, metrics, promotion), `GET /v1/models` lists the store's versions and the promoted one.
 */
@Controller('v1')
export class TrainingController {
  constructor(private readonly training: TrainingService) {}

  @Post('train')
  @HttpCode(202)
  train(@Body() body: unknown): { runId: string; status: string; model: string; links: { run: string } } {
    const b = (typeof body === 'object' && body !== null ? body : {}) as { model?: unknown; epochs?: unknown };
    const overrides: { model?: TrainableModel; epochs?: number } = {};
    if (b.model !== undefined) {
      if (typeof b.model !== 'string' || !isTrainableModel(b.model)) {
        throw new HttpException({ statusCode: 400, error: 'Bad Request', field: 'model', message: `model must be one of ${TRAINABLE_MODELS.join('|')}` }, 400);
      }
      overrides.model = b.model;
    }
    if (b.epochs !== undefined) {
      if (typeof b.epochs !== 'number' || !Number.isInteger(b.epochs) || b.epochs < 1 || b.epochs > 1000) {
        throw new HttpException({ statusCode: 400, error: 'Bad Request', field: 'epochs', message: 'epochs must be an integer in 1..1000' }, 400);
      }
      overrides.epochs = b.epochs;
    }
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
