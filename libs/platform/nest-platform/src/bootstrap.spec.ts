import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort } from '@seqrec/testing';

const FIXTURE = join(__dirname, 'testing', 'bootstrap.fixture.js');

/**
 * Starts the fixture service with `env` (in-memory bus and state); once it is listening, sends
 * SIGTERM. Resolves to the exit code, whether it ever listened, and its output.
 */
async function startThenTerm(env: Record<string, string>): Promise<{ code: number | null; listened: boolean; output: string }> {
  const child = spawn(process.execPath, [FIXTURE], {
    env: {
      ...process.env,
      KAFKA_BROKERS: '',
      REDIS_URL: '',
      REDIS_CLUSTER_NODES: '',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(await freePort()),
      METRICS_PORT: String(await freePort()),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let listened = false;
  const onData = (c: Buffer) => {
    output += c.toString();
    if (!listened && /fixture listening on/.test(output)) {
      listened = true;
      child.kill('SIGTERM');
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(killer);
  return { code, listened, output };
}

describe('bootstrapService', () => {
  it('drains and exits 0 on SIGTERM within SHUTDOWN_TIMEOUT_MS', async () => {
    const run = await startThenTerm({ SHUTDOWN_TIMEOUT_MS: '25000' });
    assert.ok(run.listened, run.output);
    assert.equal(run.code, 0, run.output);
  });

  it('refuses to start with a SHUTDOWN_TIMEOUT_MS that is not a whole number of ms, naming it', async () => {
    // "25s" used to become NaN: the service started and every shutdown then exited 1 at once
    const run = await startThenTerm({ SHUTDOWN_TIMEOUT_MS: '25s' });
    assert.deepEqual({ listened: run.listened, code: run.code }, { listened: false, code: 1 }, run.output);
    assert.match(run.output, /SHUTDOWN_TIMEOUT_MS: .*"25s"/);
  });
});
