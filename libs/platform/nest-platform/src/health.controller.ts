import { Controller, Get, HttpCode, HttpException, HttpStatus, Inject } from '@nestjs/common';
import type { Bus } from '@seqrec/bus';
import { BUS } from './platform.constants';
import { ReadinessService } from './readiness.service';

/** Probes. `/metrics` is not here: it has its own port (METRICS_PORT, see metrics.server.ts). */
@Controller()
export class HealthController {
  constructor(
    private readonly readiness: ReadinessService,
    @Inject(BUS) private readonly bus: Bus,
  ) {}

  /** Red once a consumer died for good (only a restart brings it back); a slow dependency keeps it green. */
  @Get('health/live')
  @HttpCode(200)
  live(): { status: 'ok' } {
    if (!this.bus.isAlive()) throw new HttpException({ status: 'dead', reason: 'a consumer stopped for good' }, HttpStatus.SERVICE_UNAVAILABLE);
    return { status: 'ok' };
  }

  @Get('health/ready')
  async ready(): Promise<{ status: 'ok'; checks: Record<string, boolean> }> {
    const { ready, checks } = await this.readiness.status();
    if (!ready) throw new HttpException({ status: 'unavailable', checks }, HttpStatus.SERVICE_UNAVAILABLE);
    return { status: 'ok', checks };
  }
}
