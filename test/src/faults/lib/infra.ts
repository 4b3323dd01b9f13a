/**
 * The fault suite's own Kafka broker and Redis server, started with `scripts/infra.sh` on ports of
 * their own (FAULT_INFRA), so stopping, pausing and restarting them never touches the broker and
 * Redis other tests and developers share. A test file acquires them (starting them when they are
 * not up, e.g. when the file runs alone) and releases them (stopping them only if it started them:
 * `scripts/faults.sh` starts them once for the whole suite).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@seqrec/kafka/testing';
import { FAULT_INFRA, ROOT, sleep } from './config';

const INFRA_SH = join(ROOT, 'scripts', 'infra.sh');
/** The shared servers' default ports: the suite refuses to run its faults against them. */
const SHARED_PORTS = new Set([19_092, 19_093, 16_379]);

export interface ShellResult {
  code: number | null;
  output: string;
}

function shell(args: string[], env: Record<string, string>): Promise<ShellResult> {
  return new Promise((resolve, reject) => {
    const p = spawn('bash', [INFRA_SH, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (d) => (output += String(d)));
    p.stderr.on('data', (d) => (output += String(d)));
    p.on('error', reject);
    p.on('exit', (code) => resolve({ code, output }));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export class FaultInfra {
  readonly brokers = [`127.0.0.1:${FAULT_INFRA.kafkaPort}`];
  readonly redisUrl = `redis://127.0.0.1:${FAULT_INFRA.redisPort}`;
  private startedHere = false;

  private constructor() {
    for (const port of [FAULT_INFRA.kafkaPort, FAULT_INFRA.controllerPort, FAULT_INFRA.redisPort]) {
      if (SHARED_PORTS.has(port)) throw new Error(`the fault suite must not run on the shared servers' port ${port}: set SEQREC_FAULTS_*_PORT`);
    }
    const shared = `${process.env.KAFKA_BROKERS ?? ''},${process.env.REDIS_URL ?? ''}`;
    if (shared.includes(`:${FAULT_INFRA.kafkaPort}`) || shared.includes(`:${FAULT_INFRA.redisPort}`)) {
      throw new Error(`KAFKA_BROKERS / REDIS_URL (${shared}) name the fault suite's own ports: they must differ`);
    }
  }

  /** infra.sh's environment for the suite's servers; never wipes data unless `reset`. */
  private env(reset = false): Record<string, string> {
    return {
      SEQREC_RUN: FAULT_INFRA.run,
      KAFKA_PORT: String(FAULT_INFRA.kafkaPort),
      KAFKA_CONTROLLER_PORT: String(FAULT_INFRA.controllerPort),
      REDIS_PORT: String(FAULT_INFRA.redisPort),
      KAFKA_DATA_RESET: reset ? '1' : '0',
      REDIS_DATA_RESET: reset ? '1' : '0',
    };
  }

  private async infra(args: string[], reset = false): Promise<void> {
    const res = await shell(args, this.env(reset));
    if (res.code !== 0) throw new Error(`scripts/infra.sh ${args.join(' ')} exited ${res.code}:\n${res.output.slice(-3_000)}`);
  }

  /** The suite's servers, started (with empty data) unless they are up already. */
  static async acquire(): Promise<FaultInfra> {
    const infra = new FaultInfra();
    const status = await shell(['status'], infra.env());
    if (status.code !== 0) {
      console.log(`# starting the fault suite's own Kafka (${infra.brokers[0]}) and Redis (${infra.redisUrl}) in ${FAULT_INFRA.run}`);
      await infra.infra(['up'], true);
      infra.startedHere = true;
    }
    return infra;
  }

  /** Stops the servers if this process started them (SEQREC_KEEP_INFRA=1 leaves them running). */
  async release(): Promise<void> {
    // a paused broker or Redis (a failed test) would not stop on SIGTERM
    for (const pid of [this.kafkaPid(), this.redisPid()]) if (pid) process.kill(pid, 'SIGCONT');
    if (this.startedHere && process.env.SEQREC_KEEP_INFRA !== '1') await this.infra(['down']);
  }

  private pidOf(file: string): number | undefined {
    try {
      const pid = Number(readFileSync(join(FAULT_INFRA.run, file), 'utf8').trim());
      return pid > 0 && alive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  kafkaPid(): number | undefined {
    return this.pidOf(join('kafka', 'kafka.pid'));
  }

  redisPid(): number | undefined {
    return this.pidOf(join('redis', 'redis.pid'));
  }

  /** Stops the broker: SIGTERM (a controlled shutdown, through infra.sh) or SIGKILL (a crash). */
  async stopKafka(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    if (signal === 'SIGTERM') return this.infra(['down', 'kafka']);
    const pid = this.kafkaPid();
    if (!pid) throw new Error('the fault suite broker is not running');
    process.kill(pid, 'SIGKILL');
    await waitFor('the killed broker to exit', () => !alive(pid), 30_000);
  }

  /** Starts the broker again on its data (waits until it answers metadata requests). */
  startKafka(): Promise<void> {
    return this.infra(['up', 'kafka']);
  }

  /** SIGSTOP: the broker keeps its sockets open and answers nothing. */
  pauseKafka(): void {
    const pid = this.kafkaPid();
    if (!pid) throw new Error('the fault suite broker is not running');
    process.kill(pid, 'SIGSTOP');
  }

  resumeKafka(): void {
    const pid = this.kafkaPid();
    if (pid) process.kill(pid, 'SIGCONT');
  }

  /** Restarts Redis (SIGTERM: it writes its append-only file; it loads it again at start). */
  async restartRedis(downMs = 0): Promise<void> {
    await this.infra(['down', 'redis']);
    if (downMs > 0) await sleep(downMs);
    await this.infra(['up', 'redis']);
  }
}
