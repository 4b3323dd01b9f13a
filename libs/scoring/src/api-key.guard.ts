import { timingSafeEqual } from 'node:crypto';
import { HttpException, HttpStatus, Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { SCORING_API_KEYS } from './scoring.constants';

/**
 * Requires one of the configured API keys in `x-api-key` or `Authorization: Bearer <key>` (401
 * otherwise). With no keys configured every request passes.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keys: Buffer[];

  constructor(@Inject(SCORING_API_KEYS) keys: string[]) {
    this.keys = keys.map((k) => Buffer.from(k));
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.keys.length === 0) return true;
    const headers = context.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>().headers;
    const auth = headers['authorization'];
    const bearer = typeof auth === 'string' && /^Bearer\s+/i.test(auth) ? auth.replace(/^Bearer\s+/i, '').trim() : undefined;
    const given = typeof headers['x-api-key'] === 'string' ? headers['x-api-key'] : bearer;
    if (given !== undefined) {
      const g = Buffer.from(given);
      if (this.keys.some((k) => k.length === g.length && timingSafeEqual(k, g))) return true;
    }
    throw new HttpException(
      {
        statusCode: 401,
        error: 'Unauthorized',
        field: given === undefined ? 'x-api-key' : 'credentials',
        message: given === undefined ? 'an API key is required (x-api-key or Authorization: Bearer)' : 'unknown API key',
      },
      HttpStatus.UNAUTHORIZED,
    );
  }
}
