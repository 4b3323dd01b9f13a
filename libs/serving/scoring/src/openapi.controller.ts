import { Controller, Get } from '@nestjs/common';
import { scorerOpenApi } from './scoring.api';

/** `GET /openapi.json`: the scorer's API description, written from its schemas (no API key needed). */
@Controller()
export class OpenApiController {
  private readonly document = scorerOpenApi();

  @Get('openapi.json')
  openApi(): Record<string, unknown> {
    return this.document;
  }
}
