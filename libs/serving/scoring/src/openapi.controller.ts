import { Controller, Get } from '@nestjs/common';
import { SCORER_OPENAPI } from './openapi';

/** `GET /openapi.json`: the scorer's API description (no API key needed). */
@Controller()
export class OpenApiController {
  @Get('openapi.json')
  document() {
    return SCORER_OPENAPI;
  }
}
