import { Controller, Get, HttpCode, HttpException, HttpStatus, Inject, Header } from '@nestjs/common';
import { metricsText, type Registry } from '@seqrec/metrics';
import { METRICS_REGISTRY } from './platform.constants';
import { ReadinessService } from './readiness.service';

@Controller()
export class HealthController {
  constructor(
    private readonly readiness: ReadinessService,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
  ) {}

  @Get('health/live')
  @HttpCode(200)
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('health/ready')
  async ready(): Promise<{ status: 'ok'; checks: Record<string, boolean> }> {
    const { ready, checks } = await this.readiness.status();
    if (!ready) throw new HttpException({ status: 'unavailable', checks }, HttpStatus.SERVICE_UNAVAILABLE);
    return { status: 'ok', checks };
  }

  @Get('metrics')
  @Header('Cache-Control', 'no-store')
  async metrics(): Promise<string> {
    try {
      // Under the cluster supervisor: every worker's series, whichever worker takes the scrape.
      return await metricsText(this.registry);
    } catch (err) {
      throw new HttpException({ status: 'unavailable', error: (err as Error).message }, HttpStatus.SERVICE_UNAVAILABLE);
    }
  }
}
