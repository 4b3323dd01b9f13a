/**
 * Container files: the one Dockerfile (parameterised by APP) passes hadolint, installs the
 * dependencies and builds both native addons in layers before any source is copied, and has the
 * agreed shape (node:24-bookworm-slim stages, `npm ci --ignore-scripts`, TensorFlow only in the
 * images of the apps that load it, one final stage per app with its port and command, a runtime
 * as a numeric non-root user installing nothing but librdkafka's shared libraries); the build
 * context excludes host builds; and deploy/compose.yaml is valid for `docker-compose config` and
 * wires the services to Kafka, Redis, Prometheus and Grafana.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { INSTALL_HINT, ROOT, run, runOk, tool, yamlDoc } from './deploy-tools';
import { dependencyLayerViolations, parseDockerfile, type Stage } from './dockerfile';

/* eslint-disable @typescript-eslint/no-explicit-any -- compose files are untyped YAML */
type Obj = Record<string, any>;

/** The images that load TensorFlow (native addon built in the image). */
const TENSORFLOW_APPS = new Set(['embedded', 'embedding', 'trainer', 'scorer']);
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

const NODE_IMAGE = 'node:24-bookworm-slim';

/** The per-app Dockerfiles this one replaced, in their shape: sources copied before `npm ci`. */
const OLD_SHAPE = `FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY . .
RUN npm ci --ignore-scripts \\
 && bash scripts/kafka-native.sh
RUN bash scripts/tfjs-native.sh
`;

describe('containers: the Dockerfile and compose', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const file = parseDockerfile(text);
  const stage = (name: string): Stage => {
    const s = file.stages.find((x) => x.name === name);
    assert.ok(s, `Dockerfile: stage ${name}`);
    return s;
  };
  const args = (s: Stage, keyword: string): string[] => s.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

  it('passes hadolint, and no app keeps a Dockerfile of its own', () => {
    const hadolint = tool('hadolint', INSTALL_HINT);
    const res = run(hadolint, ['--failure-threshold', 'info', 'Dockerfile']);
    assert.equal(res.status, 0, `hadolint Dockerfile:\n${res.stdout}${res.stderr}`);
    for (const app of APPS) assert.ok(!existsSync(join(ROOT, 'apps', app, 'Dockerfile')), `apps/${app}/Dockerfile: build from the root Dockerfile`);
  });

  it('layer order: dependencies and native builds before any source, independent of APP', () => {
    assert.deepEqual(dependencyLayerViolations(file), []);
    const deps = file.stages.find((s) => args(s, 'RUN').some((r) => /npm ci --ignore-scripts/.test(r)))!;
    const runs = args(deps, 'RUN');
    assert.ok(runs.some((r) => /bash scripts\/kafka-native\.sh/.test(r)), 'the dependency stage builds the Kafka addon');
    assert.ok(runs.some((r) => /bash scripts\/tfjs-native\.sh/.test(r)), 'the dependency stage builds the TensorFlow addon');
    // the sources come in on top of the dependency stage
    const build = stage('build');
    assert.equal(build.from, deps.name, 'the build stage starts from the dependency stage');
    const copyAll = build.instructions.findIndex((i) => i.keyword === 'COPY' && /^\.\s+\.$/.test(i.args));
    const compile = build.instructions.findIndex((i) => i.keyword === 'RUN' && /npx tsc -b "apps\/\$\{APP\}"/.test(i.args));
    assert.ok(copyAll >= 0 && compile > copyAll, 'build: COPY . . then tsc -b of the app');
    // the rule catches the shape it replaced
    assert.deepEqual(dependencyLayerViolations(parseDockerfile(OLD_SHAPE)), ['stage build: COPY . (a source) before the dependency layers']);
  });

  it('one stage per app picked by APP: its port, its command, TensorFlow only where used', () => {
    assert.ok(file.globalArgs.some((a) => /^APP=\S+$/.test(a)), 'a global ARG APP with a default');
    const last = file.stages[file.stages.length - 1]!;
    assert.equal(last.from, '${APP}', 'the final stage is the one named by APP');
    const stageNames = new Set(file.stages.map((s) => s.name));
    for (const s of file.stages.filter((x) => !stageNames.has(x.from) && x !== last)) {
      assert.equal(s.from, NODE_IMAGE, `stage ${s.name}: ${NODE_IMAGE}`);
    }
    const build = args(stage('build'), 'RUN').join('\n');
    assert.match(build, /npm prune --omit=dev/, 'production dependencies only');
    assert.match(build, /find libs -name '\*\.lua'/, 'Redis Lua scripts');
    assert.match(build, /find libs -path '\*\/static\/\*'/, 'the console\'s static files');
    const tfCase = /case "\$\{APP\}" in ([\w|-]+)\) ;; \*\) rm -rf node_modules\/@tensorflow ;; esac/.exec(build);
    assert.ok(tfCase, 'build: TensorFlow dropped from the images of apps that do not load it');
    assert.deepEqual(new Set(tfCase[1]!.split('|')), TENSORFLOW_APPS, 'the apps that keep TensorFlow');
    for (const app of APPS) {
      const s = stage(app);
      const where = `Dockerfile stage ${app}`;
      const tf = TENSORFLOW_APPS.has(app);
      assert.equal(s.from, tf ? 'runtime-tensorflow' : 'runtime', `${where}: from the shared runtime`);
      const env = [s, ...(tf ? [stage('runtime-tensorflow')] : [])].flatMap((x) => args(x, 'ENV')).join(' ');
      const port = defaultPort(app);
      assert.deepEqual(args(s, 'EXPOSE'), [String(port)], `${where}: EXPOSE ${port}`);
      assert.match(env, new RegExp(`\\bHTTP_PORT=${port}\\b`), `${where}: HTTP_PORT ${port}`);
      assert.deepEqual(args(s, 'CMD'), [`["node", "apps/${app}/dist/main.js"]`], `${where}: CMD`);
      assert.deepEqual(
        s.instructions.map((i) => i.keyword).filter((k) => !['ENV', 'EXPOSE', 'CMD'].includes(k)),
        [],
        `${where}: only ENV, EXPOSE and CMD (the image is assembled in the shared stages)`,
      );
      assert.equal(/\bMODEL_STORE_DIR=\/models\b/.test(env), tf, `${where}: MODEL_STORE_DIR ${tf ? 'missing' : 'not wanted'}`);
      if (!tf) assert.ok(!usesTensorflow(app), `apps/${app} now depends on TensorFlow: add it to TENSORFLOW_APPS and to the Dockerfile's case`);
    }
  });

  it('runtime: slim, numeric non-root user, installs only librdkafka\'s shared libraries', () => {
    assert.equal(stage('runtime-tensorflow').from, 'runtime');
    assert.deepEqual(new Set(stage('runtime-tensorflow').instructions.map((i) => i.keyword)), new Set(['ENV']), 'runtime-tensorflow only sets ENV');
    const runtime = stage('runtime');
    assert.equal(runtime.from, NODE_IMAGE);
    const runs = args(runtime, 'RUN');
    const librdkafkaLibs = 'apt-get update && apt-get install -y --no-install-recommends libsasl2-2 libssl3 zlib1g libzstd1 liblz4-1 && rm -rf /var/lib/apt/lists/*';
    assert.ok(runs.includes(librdkafkaLibs), 'runtime installs librdkafka\'s shared libraries');
    assert.doesNotMatch(runs.filter((r) => r !== librdkafkaLibs).join('\n'), /apt-get|npm (ci|install)|tsc/, 'runtime otherwise only copies');
    assert.deepEqual(args(runtime, 'COPY'), ['--from=build /out/ ./'], 'runtime copies the assembled tree');
    assert.deepEqual(args(runtime, 'USER'), ['10001:10001'], 'numeric non-root user');
    assert.ok(runs.some((r) => /chown 10001:10001 \/models/.test(r)), 'writable /models mount point');
    assert.match(args(runtime, 'HEALTHCHECK').join(''), /CMD \[.*\/health\/live/, 'HEALTHCHECK on /health/live');
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
      assert.equal(s.build.dockerfile, 'Dockerfile', `${app}: built from the Dockerfile`);
      assert.equal(s.build.args?.APP, app, `${app}: build arg APP`);
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
