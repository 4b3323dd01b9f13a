/**
 * Container files: every app's Dockerfile passes hadolint and has the agreed shape (multi-stage
 * node:20-bookworm-slim, `npm ci --ignore-scripts`, the native Kafka client's build, the native
 * TensorFlow build only where TensorFlow is used, a runtime stage as a numeric non-root user with
 * the app's port and command, installing nothing but librdkafka's shared libraries), the build context excludes host builds, and deploy/compose.yaml is valid for
 * `docker-compose config` and wires the services to Kafka, Redis, Prometheus and Grafana.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { INSTALL_HINT, ROOT, run, runOk, tool, yamlDoc } from './deploy-tools';

/* eslint-disable @typescript-eslint/no-explicit-any -- compose files are untyped YAML */
type Obj = Record<string, any>;

/** The images that load TensorFlow (native addon built in the image). */
const TENSORFLOW_APPS = new Set(['embedding', 'trainer', 'scorer']);
/** The compose services built from this repository: every deployable but the embedded demo. */
const SERVICES = ['ingester', 'sequence-builder', 'embedding', 'trainer', 'scorer'];
const APPS = readdirSync(join(ROOT, 'apps')).filter((a) => existsSync(join(ROOT, 'apps', a, 'package.json'))).sort();

function defaultPort(app: string): number {
  const src = join(ROOT, 'apps', app, 'src');
  for (const f of readdirSync(src).filter((f) => f.endsWith('.ts'))) {
    const m = /defaultPort:\s*(\d+)/.exec(readFileSync(join(src, f), 'utf8'));
    if (m) return Number(m[1]);
  }
  throw new Error(`apps/${app}/src: no defaultPort`);
}

/** Whether the app's workspace dependency closure reaches TensorFlow. */
function usesTensorflow(app: string): boolean {
  const manifests = new Map<string, Obj>();
  const projectDirs = [
    ...readdirSync(join(ROOT, 'libs')).flatMap((scope) => readdirSync(join(ROOT, 'libs', scope)).map((d) => join('libs', scope, d))),
    ...readdirSync(join(ROOT, 'apps')).map((d) => join('apps', d)),
  ];
  {
    for (const d of projectDirs) {
      const p = join(ROOT, d, 'package.json');
      if (existsSync(p)) {
        const m = JSON.parse(readFileSync(p, 'utf8')) as Obj;
        manifests.set(m.name as string, m);
      }
    }
  }
  const seen = new Set<string>();
  const visit = (name: string): boolean => {
    if (name.startsWith('@tensorflow/')) return true;
    if (seen.has(name) || !manifests.has(name)) return false;
    seen.add(name);
    return Object.keys(manifests.get(name)!.dependencies ?? {}).some(visit);
  };
  return visit(JSON.parse(readFileSync(join(ROOT, 'apps', app, 'package.json'), 'utf8')).name as string);
}

describe('containers: Dockerfiles and compose', () => {
  it('every app has a Dockerfile that passes hadolint', () => {
    const hadolint = tool('hadolint', INSTALL_HINT);
    for (const app of APPS) {
      const file = join('apps', app, 'Dockerfile');
      assert.ok(existsSync(join(ROOT, file)), `${file} missing`);
      const res = run(hadolint, ['--failure-threshold', 'info', file]);
      assert.equal(res.status, 0, `hadolint ${file}:\n${res.stdout}${res.stderr}`);
    }
  });

  it('every Dockerfile: multi-stage build, TensorFlow only where used, slim non-root runtime', () => {
    for (const app of APPS) {
      const text = readFileSync(join(ROOT, 'apps', app, 'Dockerfile'), 'utf8');
      const where = `apps/${app}/Dockerfile`;
      const stages = [...text.matchAll(/^FROM (\S+) AS (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
      assert.deepEqual(stages, ['node:20-bookworm-slim build', 'node:20-bookworm-slim runtime'], `${where}: stages`);
      const [build, runtime] = text.split(/^FROM node:20-bookworm-slim AS runtime$/m) as [string, string];
      assert.match(build, /npm ci --ignore-scripts/, `${where}: npm ci --ignore-scripts`);
      assert.match(build, /&& bash scripts\/kafka-native\.sh/, `${where}: native Kafka client (librdkafka) build`);
      assert.match(build, /\bg\+\+/, `${where}: build tools for the Kafka addon`);
      assert.match(build, new RegExp(`npx tsc -b apps/${app}\\b`), `${where}: builds its app`);
      assert.match(build, /npm prune --omit=dev/, `${where}: production dependencies only`);
      assert.match(build, /cp -a libs\/platform\/redis\/lua/, `${where}: Redis Lua scripts`);
      const tf = TENSORFLOW_APPS.has(app);
      assert.equal(/bash scripts\/tfjs-native\.sh/.test(build), tf, `${where}: native TensorFlow build ${tf ? 'missing' : 'not wanted'}`);
      assert.equal(/python3-pip/.test(build) && /\bg\+\+/.test(build) && /\bmake\b/.test(build), tf, `${where}: build tools for the addon`);
      assert.equal(/rm -rf node_modules\/@tensorflow/.test(build), !tf, `${where}: TensorFlow dropped from non-TF images`);
      if (!tf) assert.ok(!usesTensorflow(app), `apps/${app} now depends on TensorFlow: add it to TENSORFLOW_APPS and build the addon in its image`);
      const librdkafkaLibs = /RUN apt-get update \\\n && apt-get install -y --no-install-recommends libsasl2-2 libssl3 zlib1g libzstd1 liblz4-1 \\\n && rm -rf \/var\/lib\/apt\/lists\/\*\n/;
      assert.match(runtime, librdkafkaLibs, `${where}: runtime installs librdkafka's shared libraries`);
      assert.doesNotMatch(runtime.replace(librdkafkaLibs, ''), /apt-get|npm (ci|install)|tsc/, `${where}: runtime stage otherwise only copies`);
      assert.match(runtime, /COPY --from=build \/out\/ \.\//, `${where}: runtime copies the assembled tree`);
      assert.match(runtime, /^USER 10001:10001$/m, `${where}: numeric non-root user`);
      const port = defaultPort(app);
      assert.match(runtime, new RegExp(`^EXPOSE ${port}$`, 'm'), `${where}: EXPOSE ${port}`);
      assert.match(runtime, new RegExp(`HTTP_PORT=${port}\\b`), `${where}: HTTP_PORT ${port}`);
      assert.match(runtime, /^HEALTHCHECK .*\n\s+CMD \[.*\/health\/live/m, `${where}: HEALTHCHECK on /health/live`);
      assert.match(runtime, new RegExp(`^CMD \\["node", "apps/${app}/dist/main\\.js"\\]$`, 'm'), `${where}: CMD`);
      if (tf) assert.match(runtime, /chown 10001:10001 \/models/, `${where}: writable /models mount point`);
    }
  });

  it('.dockerignore keeps host builds and secrets out of the build context', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const p of ['**/node_modules', '**/dist', '**/*.tsbuildinfo', '.git', '**/.env']) assert.ok(ignore.includes(p), `.dockerignore: ${p}`);
    for (const needed of ['scripts', 'patches', 'libs', 'apps', 'package-lock.json']) assert.ok(!ignore.includes(needed), `.dockerignore must keep ${needed}`);
  });

  it('deploy/compose.yaml: valid for docker-compose, Kafka KRaft, Redis AOF, the five services, Prometheus, Grafana', () => {
    const compose = tool('docker-compose', INSTALL_HINT);
    const file = join(ROOT, 'deploy', 'compose.yaml');
    runOk(compose, ['-f', file, 'config', '--quiet']);
    const c = yamlDoc<Obj>(runOk(compose, ['-f', file, 'config']));
    const svc = c.services as Record<string, Obj>;
    assert.match(svc.kafka.image, /^apache\/kafka:3\.9\./);
    assert.match(svc.kafka.environment.KAFKA_PROCESS_ROLES, /broker,controller/, 'KRaft combined mode');
    assert.match(svc.redis.image, /^redis:7/);
    assert.ok((svc.redis.command as string[]).join(' ').includes('--appendonly yes'), 'Redis AOF');
    const prometheusYml = yamlDoc<Obj>(readFileSync(join(ROOT, 'deploy', 'prometheus', 'prometheus.yml'), 'utf8'));
    const targets = (prometheusYml.scrape_configs as Obj[]).find((s) => s.job_name === 'seqrec')!.static_configs as Obj[];
    for (const app of SERVICES) {
      const s = svc[app];
      assert.ok(s, `compose service ${app}`);
      assert.equal(s.build.dockerfile, `apps/${app}/Dockerfile`, `${app}: built from its Dockerfile`);
      assert.ok(existsSync(join(ROOT, s.build.dockerfile)), `${app}: Dockerfile exists`);
      const port = defaultPort(app);
      assert.equal(String(s.environment.HTTP_PORT), String(port), `${app}: HTTP_PORT`);
      assert.match(s.environment.KAFKA_BROKERS, /^kafka:/, `${app}: Kafka`);
      assert.match(s.environment.REDIS_URL, /^redis:\/\/redis:/, `${app}: Redis`);
      assert.equal(s.read_only, true, `${app}: read-only root`);
      assert.deepEqual(s.cap_drop, ['ALL'], `${app}: capabilities dropped`);
      assert.equal(s.depends_on.kafka.condition, 'service_healthy', `${app}: waits for Kafka`);
      // /metrics has a port of its own (METRICS_PORT, default the HTTP port + 1000)
      assert.equal(String(s.environment.METRICS_PORT), String(port + 1_000), `${app}: METRICS_PORT`);
      const target = targets.find((t) => t.labels.app === app);
      assert.deepEqual(target?.targets, [`${app}:${port + 1_000}`], `${app}: scraped by Prometheus on its metrics port`);
    }
    // docker-compose prints volumes in the short form (source:target[:mode]); the spec allows both
    const volumes = (s: Obj) =>
      ((s.volumes ?? []) as Array<string | Obj>).map((v) => {
        if (typeof v !== 'string') return { source: String(v.source), target: String(v.target) };
        const [source, target] = v.split(':');
        return { source: source!, target: target! };
      });
    for (const app of ['embedding', 'trainer', 'scorer']) {
      assert.ok(volumes(svc[app]).some((v) => v.source === 'models' && v.target === '/models'), `${app}: model store volume`);
    }
    for (const v of [...volumes(svc.prometheus), ...volumes(svc.grafana)]) {
      if (v.source.startsWith('/')) assert.ok(existsSync(v.source), `bind mount source ${v.source}`);
    }
  });
});
