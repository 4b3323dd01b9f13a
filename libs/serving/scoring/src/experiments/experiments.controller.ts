import { Body, Controller, Delete, Get, HttpCode, HttpException, HttpStatus, Inject, Param, Put } from '@nestjs/common';
import { EMPTY_STORED_COUNTS, HOLDOUT, experimentReport, modelKey, parseExperiment, type ExperimentConfig, type ModelChoice, type StoredCounts } from '@seqrec/experiments';
import { TrainedBeforeDeletionError, assertServable, type ModelStore } from '@seqrec/model-store';
import { badRequest, requestParsers } from '@seqrec/nest-platform';
import { MODEL_STORE } from '../scoring.constants';
import { experimentsApi } from './experiments.api';
import { ExperimentsService } from './experiments.service';

const api = {
  start: requestParsers(experimentsApi.start),
  stop: requestParsers(experimentsApi.stop),
  report: requestParsers(experimentsApi.report),
};

/**
 * Experiments through the scorer (admin role): start or change the active one, stop it, read its
 * report. The report is computed from the experiment store's counts, which every scorer replica's
 * feedback join writes, so any replica answers it the same (docs/experiments.md).
 */
@Controller('v1/experiments')
export class ExperimentsController {
  constructor(
    private readonly experiments: ExperimentsService,
    @Inject(MODEL_STORE) private readonly models: ModelStore,
  ) {}

  @Get()
  async list() {
    const [active, experiments] = await Promise.all([this.experiments.store.active(), this.experiments.store.history()]);
    return { active, inForce: this.experiments.active?.config.id ?? null, experiments };
  }

  @Put(':id')
  @HttpCode(200)
  async start(@Param() params: unknown, @Body() body: unknown) {
    const { id } = api.start.params(params);
    if (typeof body === 'object' && body !== null && 'id' in body && (body as { id: unknown }).id !== id) throw badRequest('body.id', `must be the path's id "${id}" or absent`);
    const parsed = parseExperiment(typeof body === 'object' && body !== null && !Array.isArray(body) ? { ...body, id } : body);
    if (!parsed.ok) {
      const field = parsed.problems[0]!.split(':')[0]!;
      throw new HttpException({ statusCode: 400, error: 'Bad Request', field, message: parsed.problems.join('; '), problems: parsed.problems }, HttpStatus.BAD_REQUEST);
    }
    await this.checkModels(parsed.config);
    const record = await this.experiments.store.start(parsed.config, Date.now());
    // in force on this replica now (once its models are loaded); the others follow by their poll
    let loadError: string | undefined;
    await this.experiments.sync().catch((err: Error) => (loadError = err.message));
    return { ...record, inForce: this.experiments.active?.config.id === id, ...(loadError ? { loadError } : {}) };
  }

  @Delete(':id')
  async stop(@Param() params: unknown) {
    const { id } = api.stop.params(params);
    const now = Date.now();
    if (!(await this.experiments.store.stop(id, now))) throw new HttpException({ statusCode: 404, error: 'Not Found', message: `experiment "${id}" is not the active one` }, HttpStatus.NOT_FOUND);
    await this.experiments.sync().catch(() => undefined);
    return { id, stoppedAt: now };
  }

  @Get(':id/report')
  async report(@Param() params: unknown) {
    const { id } = api.report.params(params);
    const record = (await this.experiments.store.history()).find((r) => r.config.id === id);
    if (!record) throw new HttpException({ statusCode: 404, error: 'Not Found', message: `no experiment "${id}" was started` }, HttpStatus.NOT_FOUND);
    const c = record.config;
    const stored = await this.experiments.store.counts(id);
    const names = [...c.variants.map((v) => v.name), ...(c.holdout > 0 || stored[HOLDOUT] ? [HOLDOUT] : [])];
    const counts: Record<string, StoredCounts> = Object.fromEntries(names.map((n) => [n, stored[n] ?? { ...EMPTY_STORED_COUNTS }]));
    const previous = await this.experiments.store.looks(id);
    const { state, ...report } = experimentReport(counts, { control: c.control ?? c.variants[0]!.name, previous });
    // this look's p-values join the running minimum, so the next look stays valid however often it is read
    await this.experiments.store.recordLooks(id, state);
    return {
      experiment: id,
      startedAt: record.startedAt,
      ...(record.stoppedAt !== undefined ? { stoppedAt: record.stoppedAt } : {}),
      k: c.k ?? 10,
      variants: c.variants.map((v) => ({ name: v.name, share: v.share, model: v.model ? modelKey(v.model) : 'default' })),
      holdout: c.holdout,
      counts,
      report,
    };
  }

  /** Every model the experiment names exists and may be served (else 404 / 409, before anything changes). */
  private async checkModels(c: ExperimentConfig): Promise<void> {
    const named: Array<[string, ModelChoice]> = [
      ...c.variants.flatMap((v, i): Array<[string, ModelChoice]> => (v.model ? [[`variants/${i}.model`, v.model]] : [])),
      ...(c.shadow ? [['shadow.model', c.shadow.model] as [string, ModelChoice]] : []),
    ];
    for (const [field, m] of named) {
      const version = m.version ?? (await this.models.current(m.name));
      if (!version) throw new HttpException({ statusCode: 404, error: 'Not Found', field, message: `${field}: model "${m.name}" has no promoted version in the model store` }, HttpStatus.NOT_FOUND);
      if (m.version && !(await this.models.versions(m.name)).includes(m.version)) {
        throw new HttpException({ statusCode: 404, error: 'Not Found', field, message: `${field}: no version "${m.version}" of "${m.name}" in the model store` }, HttpStatus.NOT_FOUND);
      }
      try {
        await assertServable(this.models, m.name, version);
      } catch (err) {
        if (err instanceof TrainedBeforeDeletionError) throw new HttpException({ statusCode: 409, error: 'Conflict', field, message: `${field}: ${err.message}` }, HttpStatus.CONFLICT);
        throw err;
      }
    }
  }
}
