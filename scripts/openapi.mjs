#!/usr/bin/env node
// Writes apps/scorer/openapi.json, the scorer's OpenAPI document, from its schemas
// (libs/serving/scoring/src/scoring.api.ts, built: run `npm run build` first). The scorer serves the same
// document at /openapi.json; apps/scorer's spec fails while the checked-in copy differs from it.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url).pathname;
const { scorerOpenApi } = createRequire(import.meta.url)(`${root}libs/serving/scoring/dist/scoring.api.js`);
writeFileSync(`${root}apps/scorer/openapi.json`, `${JSON.stringify(scorerOpenApi(), null, 2)}\n`);
console.log('wrote apps/scorer/openapi.json');
