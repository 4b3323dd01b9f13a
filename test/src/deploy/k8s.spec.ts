/**
 * Kubernetes manifests (k8s/): renders every overlay with a real kustomize (`kubectl kustomize`,
 * kustomize v5), validates every object offline against the Kubernetes OpenAPI schemas twice —
 * `kubernetes-models` (types, formats, required fields; also the Prometheus Operator CRDs) and
 * `kubernetes-validate --strict` (unknown fields, for two Kubernetes versions) — and checks what a
 * cluster does not: probes on the health endpoints, resources, securityContext, labels, graceful
 * shutdown within the grace period, autoscaling bounded by partitions, references that resolve,
 * the model store, API keys per role (fail closed in prod), /metrics on its own port, network
 * policies (monitoring reaches the metrics port only) and the operator's rules matching
 * deploy/prometheus/rules.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { INSTALL_HINT, ROOT, run, runOk, tool, yamlDoc, yamlDocs } from './deploy-tools';

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are untyped JSON */
type Obj = Record<string, any>;

interface Expect {
  port: number;
  /** METRICS_PORT: /metrics only, apart from the API */
  metricsPort: number;
  /** AUTH_*_KEYS the workload's routes need (docs/api.md) */
  keys: string[];
  kind: 'Deployment' | 'StatefulSet' | 'CronJob';
  /** consumes a Kafka topic in a shared group (a StatefulSet: static group members; HPA bounded by partitions, young-generation tuning) */
  stream: boolean;
  /** model store mount */
  models?: 'ro' | 'rw';
}

/** Every seqrec workload, its HTTP port (docs/configuration.md) and its shape. */
const WORKLOADS: Record<string, Expect> = {
  // admin: user deletions and objections
  ingester: { port: 8081, metricsPort: 9081, keys: ['AUTH_PRODUCER_KEYS', 'AUTH_ADMIN_KEYS'], kind: 'StatefulSet', stream: true },
  'sequence-builder': { port: 8082, metricsPort: 9082, keys: ['AUTH_ADMIN_KEYS'], kind: 'StatefulSet', stream: true },
  embedding: { port: 8083, metricsPort: 9083, keys: ['AUTH_CLIENT_KEYS', 'AUTH_ADMIN_KEYS'], kind: 'StatefulSet', stream: true, models: 'ro' },
  // admin: the console's reads (CONSOLE_ENABLED)
  scorer: { port: 8080, metricsPort: 9080, keys: ['AUTH_CLIENT_KEYS', 'AUTH_ADMIN_KEYS'], kind: 'Deployment', stream: false, models: 'ro' },
  // the scorer image running the experiments' feedback join and shadow (SCORER_FEEDBACK_JOIN): a consumer, no clients
  'scorer-feedback': { port: 8080, metricsPort: 9080, keys: ['AUTH_CLIENT_KEYS', 'AUTH_ADMIN_KEYS'], kind: 'Deployment', stream: true, models: 'ro' },
  trainer: { port: 8084, metricsPort: 9084, keys: ['AUTH_ADMIN_KEYS'], kind: 'CronJob', stream: false, models: 'rw' },
};
/** Secrets the cluster provides in production (never rendered from git there). */
const EXTERNAL_SECRETS = ['seqrec-kafka-credentials', 'seqrec-redis-credentials', 'seqrec-api-keys', 'seqrec-ca', 'seqrec-scorer-api-keys', 'seqrec-privacy-key'];
/** Secrets workloads reference as optional: dev renders none of them. */
const OPTIONAL_SECRETS = new Set(['seqrec-ca', 'seqrec-scorer-api-keys']);
const REQUIRED_LABELS = ['app.kubernetes.io/name', 'app.kubernetes.io/component', 'app.kubernetes.io/part-of', 'app.kubernetes.io/version'];
/** Variables each workload sets itself or takes from a Secret, so the ConfigMap must not carry them. */
const NOT_IN_CONFIGMAP = new Set([
  'HTTP_PORT',
  'METRICS_PORT',
  'INSTANCE_ID',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
  'REDIS_URL',
  'SCORER_API_KEYS',
  'AUTH_PRODUCER_KEYS',
  'AUTH_CLIENT_KEYS',
  'AUTH_ADMIN_KEYS',
  'PRIVACY_HMAC_KEY',
  'INGEST_FAILPOINTS', // tests only: fault injection
  'SEQREC_TRAINER_URL', // the operator's CLI (npm run models), read by no service
  'SEQREC_SCORER_URL', // the operator's CLI (npm run experiments), read by no service
  'SEQREC_ADMIN_KEY', // the operator's CLI: an admin key, never in a ConfigMap
  'SEQREC_DATASETS', // the CLI's and benchmarks' folder of public datasets; deployments train on the events topic or TRAIN_DATA_PATH
]);
/** Kubernetes versions the strict schema check covers (oldest supported by these manifests, recent). */
const KUBE_VERSIONS = ['1.29.0', '1.34.0'];

const OVERLAYS = readdirSync(join(ROOT, 'k8s', 'overlays')).sort();
const rendered = new Map<string, Obj[]>();

function kubectl(): string {
  const bin = tool('kubectl', 'install kubectl ≥ 1.27 (kustomize v5 inside); Debian\'s kubernetes-client 1.20 is too old');
  const version = JSON.parse(runOk(bin, ['version', '--client', '-o', 'json'])) as { kustomizeVersion?: string };
  const major = Number(/^v(\d+)/.exec(version.kustomizeVersion ?? '')?.[1] ?? 0);
  assert.ok(major >= 5, `kubectl's kustomize is ${version.kustomizeVersion ?? 'missing'}; these overlays need kustomize v5 (kubectl ≥ 1.27)`);
  return bin;
}

const podSpec = (o: Obj): Obj => (o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.spec : o.spec.template.spec);
const podMeta = (o: Obj): Obj => (o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.metadata : o.spec.template.metadata);
const byKind = (objs: Obj[], kind: string) => objs.filter((o) => o.kind === kind);
const find = (objs: Obj[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);
/** Long-running workloads (replicated pods behind a Service). */
const servers = (objs: Obj[]) => [...byKind(objs, 'Deployment'), ...byKind(objs, 'StatefulSet')];
const workloads = (objs: Obj[]) => [...servers(objs), ...byKind(objs, 'CronJob')];
const workloadOf = (objs: Obj[], app: string) => workloads(objs).find((o) => podMeta(o).labels?.['app.kubernetes.io/name'] === app);
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);
const envOf = (container: Obj, name: string) => (container.env as Obj[] | undefined)?.find((e) => e.name === name);
const mib = (q: string): number => {
  const m = /^(\d+(?:\.\d+)?)(Mi|Gi)$/.exec(q);
  assert.ok(m, `memory quantity ${q} not in Mi/Gi`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
};

/** Variables of the configuration reference (docs/configuration.md, generated from the env specs), minus the embedded demo's. */
function readmeVariables(): string[] {
  const out: string[] = [];
  let section = '';
  for (const line of readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8').split('\n')) {
    if (line.startsWith('### ')) section = line.slice(4);
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 4 || !cells[1]?.startsWith('`')) continue;
    if (section.startsWith('embedded only')) continue;
    for (const [, name] of cells[1].matchAll(/`([A-Z_][A-Z0-9_]*)`/g)) out.push(name!);
  }
  assert.ok(out.length > 20, 'configuration table not found in docs/configuration.md');
  return out;
}

describe('k8s: kustomize overlays', () => {
  before(() => {
    const bin = kubectl();
    for (const overlay of OVERLAYS) {
      rendered.set(overlay, yamlDocs(runOk(bin, ['kustomize', join('k8s', 'overlays', overlay)])));
    }
  });

  it('has the dev and prod overlays and the operator variant', () => {
    for (const o of ['dev', 'prod', 'prod-prometheus-operator']) assert.ok(OVERLAYS.includes(o), `k8s/overlays/${o} missing`);
  });

  it('every object validates against the Kubernetes schemas (kubernetes-models)', async () => {
    const models = await loadModels();
    for (const [overlay, objs] of rendered) {
      for (const o of objs) {
        const Model = models(o.apiVersion as string, o.kind as string);
        try {
          new Model(o).validate();
        } catch (err) {
          assert.fail(`${overlay}: ${o.kind}/${o.metadata?.name}: ${(err as Error).message}`);
        }
      }
    }
  });

  it('every built-in object validates strictly, unknown fields included (kubernetes-validate)', () => {
    const bin = tool('kubernetes-validate', INSTALL_HINT);
    const dir = mkdtempSync(join(tmpdir(), 'seqrec-k8s-'));
    try {
      for (const [overlay, objs] of rendered) {
        const builtIn = objs.filter((o) => !String(o.apiVersion).includes('.coreos.com'));
        const file = join(dir, `${overlay}.json`);
        // one JSON document per line is valid multi-document YAML
        writeFileSync(file, builtIn.map((o) => JSON.stringify(o)).join('\n---\n'));
        for (const version of KUBE_VERSIONS) {
          const res = run(bin, ['--strict', '--quiet', '-k', version, file]);
          assert.equal(res.status, 0, `${overlay} against Kubernetes ${version}:\n${res.stdout}${res.stderr}`);
          assert.doesNotMatch(`${res.stdout}${res.stderr}`, /ERROR|Couldn't find schema/, `${overlay} against ${version}`);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every object carries the app.kubernetes.io labels, with one version', () => {
    const base = readFileSync(join(ROOT, 'k8s', 'base', 'kustomization.yaml'), 'utf8');
    const version = /app\.kubernetes\.io\/version: "([^"]+)"/.exec(base)?.[1];
    assert.ok(version, 'version label in k8s/base/kustomization.yaml');
    for (const [overlay, objs] of rendered) {
      for (const o of objs) {
        const labels = (o.metadata.labels ?? {}) as Record<string, string>;
        for (const l of REQUIRED_LABELS) assert.ok(labels[l], `${overlay}: ${o.kind}/${o.metadata.name} lacks label ${l}`);
        assert.equal(labels['app.kubernetes.io/part-of'], 'seqrec', `${overlay}: ${o.kind}/${o.metadata.name}`);
        assert.equal(labels['app.kubernetes.io/version'], version, `${overlay}: ${o.kind}/${o.metadata.name}`);
        if (o.kind === 'Deployment' || o.kind === 'StatefulSet' || o.kind === 'CronJob') {
          for (const l of REQUIRED_LABELS) assert.ok(podMeta(o).labels?.[l], `${overlay}: ${o.metadata.name} pod template lacks ${l}`);
          for (const c of podSpec(o).containers as Obj[]) {
            assert.match(c.image as string, new RegExp(`:${version.replace(/\./g, '\\.')}$`), `${overlay}: ${o.metadata.name} image tag = version label`);
          }
        }
      }
    }
  });

  it('every workload: probes on /health/*, resources, securityContext, grace period, env from config and secrets', () => {
    for (const [overlay, objs] of rendered) {
      const cm = byKind(objs, 'ConfigMap').find((c) => c.metadata.name.startsWith('seqrec-config'));
      assert.ok(cm, `${overlay}: seqrec-config ConfigMap`);
      const shutdownMs = Number(cm.data.SHUTDOWN_TIMEOUT_MS);
      assert.equal(shutdownMs, 25_000, `${overlay}: SHUTDOWN_TIMEOUT_MS`);
      assert.equal(workloads(objs).length, Object.keys(WORKLOADS).length, `${overlay}: one workload per service`);
      for (const [app, want] of Object.entries(WORKLOADS)) {
        const w = workloadOf(objs, app);
        const where = `${overlay}: ${app}`;
        assert.ok(w, `${where}: no workload`);
        assert.equal(w.kind, want.kind, where);
        const spec = podSpec(w);
        const meta = podMeta(w);
        // pod-level
        assert.equal(spec.terminationGracePeriodSeconds, 30, `${where}: terminationGracePeriodSeconds`);
        assert.equal(spec.automountServiceAccountToken, false, `${where}: no API token`);
        assert.equal(spec.securityContext?.runAsNonRoot, true, `${where}: runAsNonRoot`);
        assert.ok(Number(spec.securityContext?.runAsUser) > 0, `${where}: numeric non-root runAsUser`);
        assert.equal(spec.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${where}: seccomp`);
        assert.equal(meta.annotations?.['prometheus.io/scrape'], 'true', `${where}: scrape annotation`);
        assert.equal(meta.annotations?.['prometheus.io/port'], String(want.metricsPort), `${where}: scrape port = METRICS_PORT`);
        assert.equal(meta.annotations?.['prometheus.io/path'], '/metrics', `${where}: scrape path`);
        assert.equal(spec.containers.length, 1, where);
        const c = spec.containers[0] as Obj;
        // port, env
        const http = (c.ports as Obj[]).find((p) => p.name === 'http');
        assert.equal(http?.containerPort, want.port, `${where}: http port`);
        assert.equal(envOf(c, 'HTTP_PORT')?.value, String(want.port), `${where}: HTTP_PORT`);
        const metrics = (c.ports as Obj[]).find((p) => p.name === 'metrics');
        assert.equal(metrics?.containerPort, want.metricsPort, `${where}: metrics port`);
        assert.equal(envOf(c, 'METRICS_PORT')?.value, String(want.metricsPort), `${where}: METRICS_PORT`);
        // API keys of exactly the roles its routes need, from the Secret, never optional
        const keyVars = ((c.env ?? []) as Obj[]).filter((e) => /^AUTH_\w+_KEYS$/.test(e.name as string));
        assert.deepEqual(keyVars.map((e) => e.name).sort(), [...want.keys].sort(), `${where}: AUTH_*_KEYS`);
        for (const e of keyVars) {
          assert.deepEqual(e.valueFrom?.secretKeyRef, { name: e.valueFrom?.secretKeyRef?.name, key: e.name }, `${where}: ${e.name} from a Secret`);
          assert.match(e.valueFrom.secretKeyRef.name as string, /^seqrec-api-keys/, `${where}: ${e.name} from seqrec-api-keys`);
          assert.notEqual(e.valueFrom.secretKeyRef.optional, true, `${where}: ${e.name} not optional`);
        }
        assert.equal(envOf(c, 'INSTANCE_ID')?.valueFrom?.fieldRef?.fieldPath, 'metadata.name', `${where}: INSTANCE_ID = pod name`);
        assert.ok((c.envFrom as Obj[]).some((e) => e.configMapRef?.name === cm.metadata.name), `${where}: envFrom the ConfigMap`);
        for (const v of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD', 'REDIS_URL']) {
          assert.ok(envOf(c, v)?.valueFrom?.secretKeyRef?.name, `${where}: ${v} from a Secret`);
        }
        const nodeOptions = String(envOf(c, 'NODE_OPTIONS')?.value ?? '');
        if (want.stream) assert.match(nodeOptions, /--max-semi-space-size=32\b/, `${where}: NODE_OPTIONS young generation`);
        // probes
        const probe = (p: Obj | undefined, path: string, what: string) => {
          assert.ok(p, `${where}: ${what}`);
          assert.equal(p.httpGet?.path, path, `${where}: ${what} path`);
          assert.ok(p.httpGet?.port === 'http' || p.httpGet?.port === want.port, `${where}: ${what} port`);
        };
        probe(c.livenessProbe, '/health/live', 'livenessProbe');
        if (w.kind !== 'CronJob') {
          probe(c.readinessProbe, '/health/ready', 'readinessProbe');
          probe(c.startupProbe, '/health/live', 'startupProbe');
        }
        // resources
        for (const k of ['requests', 'limits']) {
          for (const r of ['cpu', 'memory']) assert.ok(c.resources?.[k]?.[r], `${where}: resources.${k}.${r}`);
        }
        const heap = /--max-old-space-size=(\d+)/.exec(nodeOptions);
        assert.ok(heap, `${where}: NODE_OPTIONS --max-old-space-size (V8 does not size its heap from the cgroup limit)`);
        assert.ok(Number(heap[1]) <= 0.75 * mib(c.resources.limits.memory), `${where}: heap ${heap[1]} MiB > 75% of ${c.resources.limits.memory}`);
        // container securityContext
        const sc = c.securityContext ?? {};
        assert.equal(sc.allowPrivilegeEscalation, false, `${where}: allowPrivilegeEscalation`);
        assert.equal(sc.readOnlyRootFilesystem, true, `${where}: readOnlyRootFilesystem`);
        assert.deepEqual(sc.capabilities?.drop, ['ALL'], `${where}: drop ALL capabilities`);
        // graceful shutdown fits in the grace period
        const preStop = Number(c.lifecycle?.preStop?.exec?.command?.[1] ?? 0);
        assert.ok(preStop + shutdownMs / 1000 < spec.terminationGracePeriodSeconds, `${where}: preStop ${preStop}s + shutdown ${shutdownMs}ms ≥ grace period`);
        // writable /tmp on a read-only root, model store
        const mounts = (c.volumeMounts ?? []) as Obj[];
        assert.ok(mounts.some((m) => m.mountPath === '/tmp'), `${where}: /tmp volume`);
        const models = mounts.find((m) => m.mountPath === '/models');
        if (want.models) {
          assert.ok(models, `${where}: /models mount`);
          assert.equal(Boolean(models.readOnly), want.models === 'ro', `${where}: /models ${want.models}`);
          const vol = (spec.volumes as Obj[]).find((v) => v.name === models.name);
          assert.equal(vol?.persistentVolumeClaim?.claimName, 'seqrec-model-store', `${where}: /models is the model store`);
        } else {
          assert.equal(models, undefined, `${where}: no model store`);
        }
      }
      assert.equal(cm.data.MODEL_STORE_DIR, '/models', `${overlay}: MODEL_STORE_DIR`);
      const pvc = find(objs, 'PersistentVolumeClaim', 'seqrec-model-store');
      assert.deepEqual(pvc?.spec.accessModes, ['ReadWriteMany'], `${overlay}: model store is ReadWriteMany`);
    }
  });

  it('the ConfigMap carries every documented variable the services read', () => {
    const vars = readmeVariables().filter((v) => !NOT_IN_CONFIGMAP.has(v));
    for (const [overlay, objs] of rendered) {
      const cm = byKind(objs, 'ConfigMap').find((c) => c.metadata.name.startsWith('seqrec-config'))!;
      const missing = vars.filter((v) => !(v in cm.data));
      assert.deepEqual(missing, [], `${overlay}: ConfigMap lacks documented variables`);
      for (const v of NOT_IN_CONFIGMAP) assert.ok(!(v in cm.data), `${overlay}: ${v} belongs in the workload or a Secret`);
    }
  });

  it('every reference resolves: config maps, secrets (external only in prod), PVC, service account, HPA and PDB targets, Services', () => {
    for (const [overlay, objs] of rendered) {
      const prod = overlay.startsWith('prod');
      if (prod) assert.deepEqual(byKind(objs, 'Secret').map((s) => s.metadata.name), [], `${overlay}: no Secret in git for production`);
      for (const w of workloads(objs)) {
        const spec = podSpec(w);
        const where = `${overlay}: ${w.metadata.name}`;
        assert.ok(find(objs, 'ServiceAccount', spec.serviceAccountName), `${where}: service account ${spec.serviceAccountName}`);
        const c = spec.containers[0] as Obj;
        for (const e of c.envFrom as Obj[]) if (e.configMapRef) assert.ok(find(objs, 'ConfigMap', e.configMapRef.name), `${where}: ConfigMap ${e.configMapRef.name}`);
        const secretRefs = [
          ...((c.env ?? []) as Obj[]).map((e) => e.valueFrom?.secretKeyRef?.name).filter(Boolean),
          ...((spec.volumes ?? []) as Obj[]).map((v) => v.secret?.secretName).filter(Boolean),
        ] as string[];
        for (const name of secretRefs) {
          if (prod) assert.ok(EXTERNAL_SECRETS.includes(name), `${where}: unexpected secret ${name}`);
          else assert.ok(find(objs, 'Secret', name) ?? OPTIONAL_SECRETS.has(name), `${where}: Secret ${name} not rendered`);
        }
        for (const v of (spec.volumes ?? []) as Obj[]) {
          if (v.persistentVolumeClaim) assert.ok(find(objs, 'PersistentVolumeClaim', v.persistentVolumeClaim.claimName), `${where}: PVC`);
        }
      }
      for (const d of servers(objs)) {
        const where = `${overlay}: ${d.metadata.name}`;
        const labels = d.spec.template.metadata.labels as Record<string, string>;
        assert.ok(matches(d.spec.selector.matchLabels, labels), `${where}: selector matches its pods`);
        assert.equal(d.spec.replicas, undefined, `${where}: replicas left to the HPA`);
        const pdb = byKind(objs, 'PodDisruptionBudget').find((p) => matches(p.spec.selector.matchLabels, labels));
        assert.ok(pdb, `${where}: PodDisruptionBudget`);
        const svc = byKind(objs, 'Service').find((s) => s.spec.selector && matches(s.spec.selector, labels));
        assert.ok(svc, `${where}: Service`);
        assert.equal(svc.spec.ports.find((p: Obj) => p.name === 'http')?.targetPort, 'http', `${where}: Service targets the http port`);
        assert.equal(svc.spec.ports.find((p: Obj) => p.name === 'metrics')?.targetPort, 'metrics', `${where}: Service names the metrics port`);
        const hpa = byKind(objs, 'HorizontalPodAutoscaler').find((h) => h.spec.scaleTargetRef.kind === d.kind && h.spec.scaleTargetRef.name === d.metadata.name);
        assert.ok(hpa, `${where}: HorizontalPodAutoscaler`);
        assert.ok(hpa.spec.minReplicas >= 1 && hpa.spec.minReplicas <= hpa.spec.maxReplicas, `${where}: HPA bounds`);
        assert.ok((hpa.spec.metrics as Obj[]).some((m) => m.resource?.name === 'cpu'), `${where}: HPA on CPU`);
        const app = labels['app.kubernetes.io/name']!;
        if (WORKLOADS[app]?.stream) {
          const cm = byKind(objs, 'ConfigMap').find((c) => c.metadata.name.startsWith('seqrec-config'))!;
          const partitions = Number(cm.data.KAFKA_TOPIC_PARTITIONS);
          assert.ok(hpa.spec.maxReplicas <= partitions, `${where}: maxReplicas ${hpa.spec.maxReplicas} > KAFKA_TOPIC_PARTITIONS ${partitions}`);
        }
      }
    }
  });

  it('stream services are StatefulSets whose pods join their consumer groups as static members under their own name', () => {
    for (const [overlay, objs] of rendered) {
      const cm = byKind(objs, 'ConfigMap').find((c) => c.metadata.name.startsWith('seqrec-config'))!;
      assert.equal(cm.data.KAFKA_STATIC_MEMBERSHIP, 'false', `${overlay}: off by default (a Deployment's pod names change on every rollout)`);
      for (const w of workloads(objs)) {
        const app = podMeta(w).labels['app.kubernetes.io/name'] as string;
        const where = `${overlay}: ${app}`;
        const c = podSpec(w).containers[0] as Obj;
        const staticMember = envOf(c, 'KAFKA_STATIC_MEMBERSHIP')?.value;
        if (w.kind !== 'StatefulSet') {
          assert.notEqual(staticMember, 'true', `${where}: static membership only where the pod name is stable`);
          continue;
        }
        assert.equal(staticMember, 'true', `${where}: KAFKA_STATIC_MEMBERSHIP`);
        assert.equal(envOf(c, 'INSTANCE_ID')?.valueFrom?.fieldRef?.fieldPath, 'metadata.name', `${where}: group.instance.id = pod name`);
        assert.equal(w.spec.podManagementPolicy, 'Parallel', `${where}: replicas start and stop together`);
        assert.equal(w.spec.updateStrategy?.type, 'RollingUpdate', `${where}: rolling update`);
        const svc = find(objs, 'Service', w.spec.serviceName);
        assert.ok(svc && matches(svc.spec.selector, w.spec.template.metadata.labels), `${where}: serviceName ${w.spec.serviceName} selects its pods`);
      }
    }
  });

  it("the experiments' feedback join and shadow run in scorer-feedback (one process), never on a serving scorer", () => {
    for (const [overlay, objs] of rendered) {
      const cm = byKind(objs, 'ConfigMap').find((c) => c.metadata.name.startsWith('seqrec-config'))!;
      const value = (app: string, v: string) => envOf(podSpec(workloadOf(objs, app)!).containers[0] as Obj, v)?.value ?? cm.data[v];
      assert.equal(value('scorer', 'SCORER_FEEDBACK_JOIN'), 'false', `${overlay}: serving scorer`);
      assert.equal(value('scorer-feedback', 'SCORER_FEEDBACK_JOIN'), 'true', `${overlay}: scorer-feedback`);
      assert.equal(value('scorer-feedback', 'SCORER_WORKERS'), '1', `${overlay}: scorer-feedback`);
      const clientRules = byKind(objs, 'NetworkPolicy').filter((p) => p.spec.ingress && matches(p.spec.podSelector.matchLabels ?? {}, { 'app.kubernetes.io/name': 'scorer-feedback', 'app.kubernetes.io/part-of': 'seqrec' }));
      assert.ok(clientRules.every((p) => !(p.spec.ingress as Obj[]).some((r) => r.from?.some((f: Obj) => f.namespaceSelector?.matchLabels?.['seqrec.io/client'] === 'true'))), `${overlay}: no client reaches scorer-feedback`);
    }
  });

  it('the trainer is a nightly CronJob that never overlaps, and runs as a Job on demand', () => {
    for (const [overlay, objs] of rendered) {
      const cron = find(objs, 'CronJob', 'seqrec-trainer');
      assert.ok(cron, `${overlay}: trainer CronJob`);
      assert.equal(cron.spec.concurrencyPolicy, 'Forbid', overlay);
      assert.equal(cron.spec.jobTemplate.spec.template.spec.restartPolicy, 'Never', overlay);
      assert.ok(cron.spec.jobTemplate.spec.activeDeadlineSeconds > 0, `${overlay}: activeDeadlineSeconds`);
    }
    const script = readFileSync(join(ROOT, 'scripts', 'deploy', 'train-now.sh'), 'utf8');
    assert.match(script, /create job --from=cronjob\/seqrec-trainer/, 'train-now.sh creates the on-demand Job from the CronJob template');
  });

  it('network policies: default deny, egress to DNS, Kafka and Redis only; monitoring reaches the metrics port only, clients and operators the http port', () => {
    for (const [overlay, objs] of rendered) {
      const policies = byKind(objs, 'NetworkPolicy');
      const all = { 'app.kubernetes.io/part-of': 'seqrec' };
      const deny = policies.find((p) => matches(p.spec.podSelector.matchLabels ?? {}, all) && !p.spec.ingress && !p.spec.egress);
      assert.ok(deny, `${overlay}: a default-deny policy`);
      assert.deepEqual([...deny.spec.policyTypes].sort(), ['Egress', 'Ingress'], `${overlay}: default deny covers both directions`);
      const egressPorts = policies.flatMap((p) => (p.spec.egress ?? []) as Obj[]).flatMap((r) => (r.ports ?? []) as Obj[]);
      const opens = (port: number, protocol = 'TCP') =>
        egressPorts.some((p) => p.protocol === protocol && p.port <= port && port <= (p.endPort ?? p.port));
      assert.ok(opens(53, 'UDP') && opens(53, 'TCP'), `${overlay}: DNS egress`);
      assert.ok(opens(9092) && opens(9093), `${overlay}: Kafka egress`);
      assert.ok(opens(6379) && opens(6380), `${overlay}: Redis egress (plain and TLS)`);
      for (const p of egressPorts) assert.ok(p.port === 53 || (p.port >= 6379 && (p.endPort ?? p.port) <= 9096), `${overlay}: unexpected egress port ${p.port}`);
      const fromMonitoring = (r: Obj) => (r.from as Obj[] | undefined)?.some((f) => f.namespaceSelector?.matchLabels?.['seqrec.io/monitoring'] === 'true') ?? false;
      for (const rule of policies.flatMap((p) => (p.spec.ingress ?? []) as Obj[])) {
        if (fromMonitoring(rule)) {
          assert.deepEqual(rule.ports?.map((p: Obj) => p.port), ['metrics'], `${overlay}: monitoring reaches the metrics port only, never an API`);
          assert.equal(rule.from.length, 1, `${overlay}: the metrics rule admits monitoring only`);
        } else {
          assert.deepEqual(rule.ports?.map((p: Obj) => p.port), ['http'], `${overlay}: other ingress only to the http port`);
        }
      }
      // every workload is reachable for metrics; only the ingester and the scorer by clients
      const ingressApps = (app: string) => {
        const labels = { 'app.kubernetes.io/name': app, 'app.kubernetes.io/part-of': 'seqrec' };
        return policies.filter((p) => p.spec.ingress && matches(p.spec.podSelector.matchLabels ?? {}, labels));
      };
      for (const app of Object.keys(WORKLOADS)) {
        const rules = ingressApps(app);
        assert.ok(rules.some((p) => (p.spec.ingress as Obj[]).some((r) => fromMonitoring(r))), `${overlay}: ${app} scrapable`);
        assert.ok(
          rules.some((p) => (p.spec.ingress as Obj[]).some((r) => r.from?.some((f: Obj) => f.namespaceSelector?.matchLabels?.['seqrec.io/admin'] === 'true'))),
          `${overlay}: ${app} reachable by operators`,
        );
        const clients = rules.filter((p) => (p.spec.ingress as Obj[]).some((r) => r.from?.some((f: Obj) => f.podSelector)));
        assert.equal(clients.length > 0, app === 'ingester' || app === 'scorer', `${overlay}: ${app} reachable by clients?`);
      }
    }
  });

  it('prod: TLS and SASL to Kafka, API keys required, spread replicas; dev: generated credentials', () => {
    const prod = rendered.get('prod')!;
    const cm = byKind(prod, 'ConfigMap')[0]!;
    assert.equal(cm.data.KAFKA_SSL, 'true');
    assert.match(cm.data.KAFKA_SASL_MECHANISM, /^scram-sha-(256|512)$/);
    assert.equal(cm.data.LOG_FORMAT, 'json');
    assert.equal(cm.data.AUTH_REQUIRED, 'true', 'prod fails closed: a service without its API keys does not start');
    for (const d of servers(prod)) {
      assert.ok(d.spec.template.spec.topologySpreadConstraints?.length >= 1, `prod: ${d.metadata.name} spread`);
    }
    const dev = rendered.get('dev')!;
    assert.equal(byKind(dev, 'ConfigMap')[0]!.data.AUTH_REQUIRED, 'false', 'dev: open APIs allowed');
    for (const name of ['seqrec-kafka-credentials', 'seqrec-redis-credentials', 'seqrec-api-keys', 'seqrec-privacy-key']) {
      assert.ok(byKind(dev, 'Secret').some((s) => s.metadata.name.startsWith(name)), `dev: ${name}`);
    }
  });

  it('prometheus-operator: a ServiceMonitor for every seqrec Service and the promtool-checked rules', () => {
    const objs = rendered.get('prod-prometheus-operator')!;
    const monitors = byKind(objs, 'ServiceMonitor');
    assert.equal(monitors.length, 1);
    const sm = monitors[0]!;
    const services = byKind(objs, 'Service');
    assert.equal(services.filter((s) => matches(sm.spec.selector.matchLabels, s.metadata.labels)).length, services.length, 'selects every Service');
    const ep = sm.spec.endpoints[0] as Obj;
    assert.equal(ep.port, 'metrics', 'the metrics port, the only one monitoring may reach');
    assert.equal(ep.path, '/metrics');
    assert.equal(ep.honorLabels, true, "keeps the metrics' own service label");
    const targets = (ep.relabelings as Obj[]).map((r) => `${r.targetLabel}=${r.replacement ?? r.sourceLabels?.join(',')}`);
    assert.ok(targets.includes('job=seqrec'), 'job="seqrec" as the alerts expect');
    assert.ok(targets.includes('app=__meta_kubernetes_pod_label_app_kubernetes_io_name'), 'app label');
    assert.ok(targets.includes('instance=__meta_kubernetes_pod_name'), 'instance = pod');
    const rules = byKind(objs, 'PrometheusRule');
    const files = readdirSync(join(ROOT, 'deploy', 'prometheus', 'rules')).filter((f) => /\.ya?ml$/.test(f));
    assert.equal(rules.length, files.length, 'one PrometheusRule per rule file');
    for (const file of files) {
      const want = yamlDoc<Obj>(readFileSync(join(ROOT, 'deploy', 'prometheus', 'rules', file), 'utf8'));
      const rule = rules.find((r) => r.metadata.name === `seqrec-${file.replace(/\.ya?ml$/, '')}`);
      assert.ok(rule, `PrometheusRule for ${file}`);
      assert.deepEqual(rule.spec, want, `${file}: run node scripts/deploy/prometheus-rule.mjs`);
    }
  });
});

after(() => rendered.clear());

/**
 * kubernetes-models (and @kubernetes-models/prometheus-operator) are ES modules: loaded by file URL
 * from the repository's node_modules, or from $SEQREC_DEPLOY_MODULES (a node_modules folder).
 */
async function loadModels(): Promise<(apiVersion: string, kind: string) => new (o: Obj) => { validate(): void }> {
  const roots = [join(ROOT, 'node_modules'), process.env.SEQREC_DEPLOY_MODULES].filter((r): r is string => Boolean(r));
  const root = roots.find((r) => existsSync(join(r, 'kubernetes-models', 'package.json')) && existsSync(join(r, '@kubernetes-models', 'prometheus-operator', 'package.json')));
  assert.ok(root, 'npm devDependencies kubernetes-models and @kubernetes-models/prometheus-operator are not installed');
  const cache = new Map<string, Record<string, unknown>>();
  const modules: Record<string, Record<string, unknown>> = {};
  for (const apiVersion of ['v1', 'apps/v1', 'batch/v1', 'autoscaling/v2', 'policy/v1', 'networking.k8s.io/v1', 'monitoring.coreos.com/v1']) {
    const dir = apiVersion.endsWith('.coreos.com/v1') ? join('@kubernetes-models', 'prometheus-operator', apiVersion) : join('kubernetes-models', apiVersion);
    const file = join(root, dir, 'index.js');
    if (!cache.has(file)) cache.set(file, (await import(pathToFileURL(file).href)) as Record<string, unknown>);
    modules[apiVersion] = cache.get(file)!;
  }
  return (apiVersion, kind) => {
    const Model = modules[apiVersion]?.[kind];
    assert.ok(typeof Model === 'function', `no schema for ${apiVersion} ${kind}: add its module to loadModels()`);
    return Model as new (o: Obj) => { validate(): void };
  };
}
