/**
 * Kubernetes manifests (deploy/kubernetes) and the Helm chart (deploy/helm/otel-friction): every
 * document parses; every embedded config passes `otel-friction validate` with the container's own
 * environment; ports, probes, env, state volume, grace period and heap size agree with the config
 * defaults, the docker config and the Dockerfile.
 *
 * The chart is rendered with `helm template` (and its notes with `helm install --dry-run=client`)
 * when a helm binary is found ($HELM or `helm` on PATH). Debian has no helm package, so without
 * one only the static checks run: values.yaml, the config in it, and the templates' YAML parts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parse as parseYaml, parseAllDocuments, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { defaultConfig, parseConfig } from '../../src/config/index.js';
import {
  IMAGE,
  type K8s,
  PACKAGE,
  ROOT,
  WORKLOAD_KINDS,
  containerEnv,
  envPairs,
  envVar,
  frictionContainer,
  mebibytes,
  parseDockerfile,
  parseStream,
  podSpecOf,
  portNumber,
  validateWithCli,
} from './support.js';

const FIELD_VALUES = { 'status.podIP': '10.1.2.3', 'spec.nodeName': 'node-a', 'status.hostIP': '192.0.2.10' };
const K8S_DIR = join(ROOT, 'deploy/kubernetes');
const CHART = join(ROOT, 'deploy/helm/otel-friction');

const dockerConfigText = readFileSync(join(ROOT, 'deploy/docker/config.yaml'), 'utf8');
const dockerConfig = parseYaml(dockerConfigText) as Record<string, unknown>;
const defaults = defaultConfig();
const DEFAULT_PORTS = {
  grpc: defaults.receivers.otlp.protocols.grpc.endpoint.port,
  http: defaults.receivers.otlp.protocols.http.endpoint.port,
  admin: defaults.admin.endpoint.port,
};

// What the image provides, from the Dockerfile's final stage.
const finalStage = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).at(-1)!;
const imageEnv = envPairs(finalStage.instructions.filter((i) => i.keyword === 'ENV').map((i) => i.args).join(' '));
const imageUid = Number(finalStage.instructions.filter((i) => i.keyword === 'USER').at(-1)!.args.split(':')[0]);
const imageVolume = (JSON.parse(finalStage.instructions.find((i) => i.keyword === 'VOLUME')!.args) as string[])[0];
const imageEntrypoint = JSON.parse(finalStage.instructions.find((i) => i.keyword === 'ENTRYPOINT')!.args) as string[];
const imagePorts = finalStage.instructions.find((i) => i.keyword === 'EXPOSE')!.args.split(/\s+/).map(Number);

type Mode = 'sidecar' | 'daemonset' | 'deployment';

/** The default of a `${env:VAR:-default}` value. */
function envDefault(text: unknown): string {
  const m = /^\$\{env:\w+:-([^}]*)\}$/.exec(String(text));
  if (m === null) throw new Error(`expected \${env:VAR:-default}, got ${String(text)}`);
  return m[1];
}

/**
 * Checks one otel-friction workload against its ConfigMap (found in `docs`), the config defaults,
 * the docker config and the Dockerfile. Returns the effective config for further checks.
 */
function checkWorkload(workload: K8s, docs: K8s[], mode: Mode, where: string) {
  const spec = podSpecOf(workload);
  const { container, init } = frictionContainer(spec);
  const ctx = `${where}: ${workload.kind}/${workload.metadata?.name ?? 'snippet'}`;

  expect(container.image, ctx).toBe(IMAGE);
  // The image's entrypoint (tini, node --max-semi-space-size=1, dist/cli.js) stays in charge.
  expect(container.command, ctx).toBeUndefined();
  expect(imageEntrypoint, ctx).toContain('--max-semi-space-size=1');
  expect(container.args, ctx).toEqual(['run']);

  // The config: a ConfigMap mounted where the image's OTEL_FRICTION_CONFIG points.
  const configMount = (container.volumeMounts ?? []).find((m: K8s) => m.mountPath === dirname(imageEnv.OTEL_FRICTION_CONFIG));
  expect(configMount, `${ctx}: config mount at ${dirname(imageEnv.OTEL_FRICTION_CONFIG)}`).toBeDefined();
  const configVolume = spec.volumes.find((v: K8s) => v.name === configMount.name);
  const configMap = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === configVolume.configMap.name);
  expect(configMap, `${ctx}: ConfigMap ${configVolume.configMap.name}`).toBeDefined();
  const configText = configMap.data[basename(imageEnv.OTEL_FRICTION_CONFIG)] as string;

  // The environment the kubelet gives the container; every OTEL_FRICTION_* variable is one the
  // config reads (a misspelt name would silently leave the default in force).
  const env = containerEnv(container, FIELD_VALUES);
  const referenced = new Set([...configText.matchAll(/\$\{env:(\w+)/g)].map((m) => m[1]));
  for (const name of Object.keys(env).filter((n) => n.startsWith('OTEL_FRICTION_'))) expect(referenced.has(name), `${ctx}: ${name} is not read by the config`).toBe(true);
  const validated = validateWithCli(configText, env);
  expect(validated.stderr, ctx).toBe('');
  expect(validated.status, ctx).toBe(0);
  const config = parseConfig(configText, { env, source: ctx });

  // Ports: the defaults, bound where the mode needs them, declared on the container.
  const { grpc, http } = config.receivers.otlp.protocols;
  expect({ grpc: grpc.endpoint.port, http: http.endpoint.port, admin: config.admin.endpoint.port }, ctx).toEqual(DEFAULT_PORTS);
  for (const p of Object.values(DEFAULT_PORTS)) expect(imagePorts).toContain(p);
  expect(config.admin.endpoint.host, `${ctx}: kubelet probes come over the pod IP`).toBe('0.0.0.0');
  expect(portNumber(container, 'admin'), ctx).toBe(config.admin.endpoint.port);
  if (mode === 'sidecar') {
    for (const e of [grpc.endpoint, http.endpoint]) expect(['localhost', '127.0.0.1'], `${ctx}: sidecar receivers on loopback`).toContain(e.host);
  } else {
    for (const e of [grpc.endpoint, http.endpoint]) expect(e.host, ctx).toBe('0.0.0.0');
    expect(portNumber(container, 'otlp-grpc'), ctx).toBe(grpc.endpoint.port);
    expect(portNumber(container, 'otlp-http'), ctx).toBe(http.endpoint.port);
  }

  // Probes: liveness /healthz, readiness and start-up /readyz, on the admin port.
  expect(container.livenessProbe.httpGet.path, ctx).toBe('/healthz');
  expect(container.readinessProbe.httpGet.path, ctx).toBe('/readyz');
  expect(container.startupProbe.httpGet.path, ctx).toBe('/readyz');
  for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
    expect(portNumber(container, probe.httpGet.port), ctx).toBe(config.admin.endpoint.port);
  }

  // Downward API: the pod IP makes links in alerts reachable; the node name is there for labels.
  expect(envVar(container, 'K8S_POD_IP')?.valueFrom?.fieldRef?.fieldPath, ctx).toBe('status.podIP');
  expect(config.admin.external_url, ctx).toBe(`http://${FIELD_VALUES['status.podIP']}:${config.admin.endpoint.port}`);
  if (mode === 'daemonset') expect(envVar(container, 'K8S_NODE_NAME')?.valueFrom?.fieldRef?.fieldPath, ctx).toBe('spec.nodeName');

  // State: the image's volume path, on a volume of the pod.
  expect(config.state.path, ctx).toBe(imageVolume);
  const stateMount = container.volumeMounts.find((m: K8s) => m.mountPath === config.state.path);
  expect(stateMount, `${ctx}: state volume`).toBeDefined();
  const stateVolume = spec.volumes.find((v: K8s) => v.name === stateMount.name);
  if (mode === 'daemonset') {
    expect(stateVolume.hostPath ?? stateVolume.emptyDir, ctx).toBeDefined();
    if (stateVolume.hostPath !== undefined) {
      // hostPath directories are root-owned: an init container hands it to the image's user.
      const chown = (spec.initContainers ?? []).find((c: K8s) => c.command?.[0] === 'chown');
      expect(chown?.command, ctx).toEqual(['chown', `${imageUid}:${imageUid}`, config.state.path]);
      expect(chown.image, ctx).toBe(IMAGE);
      expect(chown.securityContext.capabilities, ctx).toEqual({ drop: ['ALL'], add: ['CHOWN'] });
      expect(chown.volumeMounts.find((m: K8s) => m.mountPath === config.state.path)?.name, ctx).toBe(stateMount.name);
    }
  } else {
    expect(stateVolume.emptyDir, ctx).toBeDefined();
  }

  // Shutdown: Kubernetes must not SIGKILL before shutdown_timeout has run out (5 s margin).
  expect(spec.terminationGracePeriodSeconds * 1000, ctx).toBeGreaterThanOrEqual(config.shutdown_timeout + 5000);

  // Memory: V8's old space and the in-flight request bytes fit in the limit, with room left.
  const limitMiB = mebibytes(container.resources.limits.memory);
  expect(container.resources.requests.memory, ctx).toBeDefined();
  expect(container.resources.requests.cpu, ctx).toBeDefined();
  expect(mebibytes(container.resources.requests.memory), ctx).toBeLessThanOrEqual(limitMiB);
  const oldSpace = Number(/--max-old-space-size=(\d+)/.exec(env.NODE_OPTIONS ?? '')?.[1]);
  expect(oldSpace, `${ctx}: NODE_OPTIONS=${env.NODE_OPTIONS}`).toBeGreaterThan(0);
  expect(oldSpace, ctx).toBeLessThanOrEqual(limitMiB * 0.8);
  expect(oldSpace + config.limits.max_inflight_bytes_mib, ctx).toBeLessThan(limitMiB);

  // Non-root, as the image's numeric user.
  expect(container.securityContext.runAsNonRoot, ctx).toBe(true);
  expect(container.securityContext.runAsUser, ctx).toBe(imageUid);

  // Native sidecar or plain container.
  expect(init, ctx).toBe(mode === 'sidecar');
  if (mode === 'sidecar') expect(container.restartPolicy, `${ctx}: native sidecar`).toBe('Always');
  return { config, container, spec };
}

/** The Service in front of a DaemonSet: node-local, its ports on the container's. */
function checkNodeLocalService(daemonSet: K8s, docs: K8s[], where: string): void {
  const { container } = frictionContainer(podSpecOf(daemonSet));
  const labels = daemonSet.spec.template.metadata.labels;
  const services = docs.filter((d) => d.kind === 'Service' && Object.entries(d.spec.selector ?? {}).every(([k, v]) => labels[k] === v));
  const hostPorts = (container.ports ?? []).filter((p: K8s) => p.hostPort !== undefined);
  expect(services.length + hostPorts.length, `${where}: a node-local Service or hostPorts`).toBeGreaterThan(0);
  for (const svc of services) {
    expect(svc.spec.internalTrafficPolicy, where).toBe('Local');
    for (const p of svc.spec.ports) expect(portNumber(container, p.targetPort), where).toBe(p.port);
    expect(svc.spec.ports.map((p: K8s) => p.port).sort(), where).toEqual([DEFAULT_PORTS.grpc, DEFAULT_PORTS.http].sort());
  }
  for (const p of hostPorts) expect(p.hostPort, where).toBe(p.containerPort);
}

// ---------------------------------------------------------------------------------------------

describe('deploy/kubernetes', () => {
  const files = readdirSync(K8S_DIR).filter((f) => f.endsWith('.yaml'));
  const docs = files.flatMap((f) => parseStream(readFileSync(join(K8S_DIR, f), 'utf8'), f));
  const workloads = docs.filter((d) => WORKLOAD_KINDS.includes(d.kind));

  it('has the ConfigMap, the native sidecar example and the DaemonSet', () => {
    expect(files.sort()).toEqual(['configmap.yaml', 'daemonset.yaml', 'sidecar.yaml']);
    for (const d of docs) {
      expect(typeof d.apiVersion, JSON.stringify(d.metadata)).toBe('string');
      expect(typeof d.kind).toBe('string');
      expect(d.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
    expect(workloads.map((w) => w.kind).sort()).toEqual(['DaemonSet', 'Deployment']);
  });

  it("the ConfigMap's config is the image's docker config plus sinks (every key the same)", () => {
    const cm = docs.find((d) => d.kind === 'ConfigMap');
    const config = parseYaml(cm.data['config.yaml']) as Record<string, unknown>;
    for (const [key, value] of Object.entries(dockerConfig)) expect(config[key], key).toEqual(value);
    expect(Object.keys(config).filter((k) => !(k in dockerConfig))).toEqual(['sinks']);
  });

  it('every otel-friction image is the same tag, the package version', () => {
    const images = workloads.flatMap((w) => [...(podSpecOf(w).containers ?? []), ...(podSpecOf(w).initContainers ?? [])]).map((c: K8s) => c.image);
    expect(images.filter((i: string) => i.includes('otel-friction')).every((i: string) => i === IMAGE)).toBe(true);
  });

  it('sidecar.yaml: a native sidecar (init container, restartPolicy Always) next to an app exporting to localhost:4317', () => {
    const deployment = workloads.find((w) => w.kind === 'Deployment');
    const { config, spec } = checkWorkload(deployment, docs, 'sidecar', 'sidecar.yaml');
    const apps = spec.containers;
    expect(apps.length).toBeGreaterThan(0);
    for (const app of apps) {
      expect(envVar(app, 'OTEL_EXPORTER_OTLP_ENDPOINT')?.value).toBe(`http://localhost:${config.receivers.otlp.protocols.grpc.endpoint.port}`);
    }
    // The app drains first, then the sidecar: room for both.
    expect(spec.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(2 * config.shutdown_timeout + 10_000);
  });

  it('daemonset.yaml: downward-API env, 0.0.0.0 binds, node-local Service, hostPath state', () => {
    const ds = workloads.find((w) => w.kind === 'DaemonSet');
    const { spec } = checkWorkload(ds, docs, 'daemonset', 'daemonset.yaml');
    checkNodeLocalService(ds, docs, 'daemonset.yaml');
    expect(spec.volumes.find((v: K8s) => v.name === 'state').hostPath.type).toBe('DirectoryOrCreate');
    expect(spec.automountServiceAccountToken).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------

const values = parseYaml(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as K8s;
const chartMeta = parseYaml(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as K8s;

describe('Helm chart, static checks (always)', () => {
  it('Chart.yaml and the image match the package', () => {
    expect(chartMeta.apiVersion).toBe('v2');
    expect(chartMeta.name).toBe(PACKAGE.name);
    expect(chartMeta.appVersion).toBe(PACKAGE.version);
    expect(`${values.image.repository}:${values.image.tag || chartMeta.appVersion}`).toBe(IMAGE);
    expect(values.mode).toBe('daemonset');
  });

  it("values.config is the docker config with a literal shutdown_timeout, and validates in every mode's environment", () => {
    expect(values.ports).toEqual(DEFAULT_PORTS);
    for (const [key, value] of Object.entries(dockerConfig)) {
      if (key === 'shutdown_timeout') expect(values.config[key]).toBe(envDefault(value));
      else expect(values.config[key], key).toEqual(value);
    }
    const text = stringify(values.config);
    for (const host of ['localhost', '0.0.0.0']) {
      // What the chart's container template sets (see the helm-rendered tests for the real thing).
      const env = {
        OTEL_FRICTION_GRPC_ENDPOINT: `${host}:${values.ports.grpc}`,
        OTEL_FRICTION_HTTP_ENDPOINT: `${host}:${values.ports.http}`,
        OTEL_FRICTION_ADMIN_ENDPOINT: `0.0.0.0:${values.ports.admin}`,
        OTEL_FRICTION_EXTERNAL_URL: `http://10.1.2.3:${values.ports.admin}`,
        OTEL_FRICTION_STATE_PATH: imageVolume,
        OTEL_FRICTION_MAX_INFLIGHT_MIB: '64',
      };
      const r = validateWithCli(text, env);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  });

  it('memory percentages leave room, the default limit gives a heap below it', () => {
    expect(values.heapPercentOfMemoryLimit + values.inflightPercentOfMemoryLimit).toBeLessThan(100);
    expect(values.heapPercentOfMemoryLimit).toBeLessThanOrEqual(80);
    const limit = mebibytes(values.resources.limits.memory);
    expect(Math.floor((limit * values.heapPercentOfMemoryLimit) / 100)).toBeLessThan(limit);
    expect(values.terminationGracePeriodSeconds ?? null).toBeNull(); // derived: shutdown_timeout + 20 s
  });

  it("the templates' static parts are YAML with the probes, downward API, native sidecar and node-local Service", () => {
    const dir = join(CHART, 'templates');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
      // Drop lines that are only template actions, stand a placeholder in for inline ones.
      const text = readFileSync(join(dir, file), 'utf8')
        .split('\n')
        .filter((l) => !/^\s*\{\{-?[^}]*-?\}\}\s*$/.test(l))
        .map((l) => l.replace(/\{\{-?.*?-?\}\}/g, 'TEMPLATED'))
        .join('\n');
      const docs = parseAllDocuments(text, { uniqueKeys: false });
      for (const doc of Array.isArray(docs) ? docs : [docs]) expect(doc.errors.map((e) => e.message), file).toEqual([]);
    }
    const helpers = readFileSync(join(dir, '_helpers.tpl'), 'utf8');
    for (const s of ['path: /healthz', 'path: /readyz', 'port: admin', 'fieldPath: spec.nodeName', 'fieldPath: status.podIP', 'restartPolicy: Always', '--max-old-space-size=', 'args: ["run"]', 'mountPath: /etc/otel-friction', `mountPath: ${imageVolume}`]) {
      expect(helpers, s).toContain(s);
    }
    expect(helpers).not.toMatch(/^\s*command:.*cli\.js/m);
    expect(readFileSync(join(dir, 'service.yaml'), 'utf8')).toContain('ternary "Local" "Cluster" (eq .Values.mode "daemonset")');
  });
});

// ---------------------------------------------------------------------------------------------

function findHelm(): string | undefined {
  if (process.env.HELM) return process.env.HELM;
  const r = spawnSync('/bin/sh', ['-c', 'command -v helm'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}
const HELM = findHelm();
if (HELM === undefined) console.warn('manifests.test.ts: no helm binary ($HELM or on PATH): the chart gets static checks only');

function helm(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(HELM!, args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, HELM_CACHE_HOME: '/tmp/otel-friction-helm/cache', HELM_CONFIG_HOME: '/tmp/otel-friction-helm/config', HELM_DATA_HOME: '/tmp/otel-friction-helm/data' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function render(...sets: string[]): K8s[] {
  const r = helm(['template', 'rel', CHART, '--namespace', 'obs', ...sets.flatMap((s) => ['--set', s])]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return parseStream(r.stdout, `helm template ${sets.join(' ')}`);
}

describe.skipIf(HELM === undefined)('Helm chart, rendered with helm', () => {
  it('lints', () => {
    const r = helm(['lint', CHART]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('mode=daemonset: DaemonSet, node-local Service, ConfigMap; hostPort optional', () => {
    const docs = render('mode=daemonset');
    expect(docs.map((d) => d.kind).sort()).toEqual(['ConfigMap', 'DaemonSet', 'Service']);
    const ds = docs.find((d) => d.kind === 'DaemonSet');
    const { spec } = checkWorkload(ds, docs, 'daemonset', 'helm daemonset');
    checkNodeLocalService(ds, docs, 'helm daemonset');
    expect(spec.volumes.find((v: K8s) => v.name === 'otel-friction-state').hostPath.path).toBe('/var/lib/otel-friction/rel');
    expect(spec.terminationGracePeriodSeconds).toBe(30);
    expect(ds.spec.template.metadata.annotations['checksum/config']).toMatch(/^[0-9a-f]{64}$/);

    const withHostPort = render('mode=daemonset', 'daemonset.hostPort=true');
    const c = frictionContainer(podSpecOf(withHostPort.find((d) => d.kind === 'DaemonSet'))).container;
    expect(c.ports.filter((p: K8s) => p.hostPort !== undefined).map((p: K8s) => p.hostPort)).toEqual([DEFAULT_PORTS.grpc, DEFAULT_PORTS.http]);
  });

  it('mode=deployment: Deployment behind a cluster-wide Service; ServiceAccount when asked', () => {
    const docs = render('mode=deployment', 'serviceAccount.create=true');
    expect(docs.map((d) => d.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'Service', 'ServiceAccount']);
    const dep = docs.find((d) => d.kind === 'Deployment');
    const { spec } = checkWorkload(dep, docs, 'deployment', 'helm deployment');
    const sa = docs.find((d) => d.kind === 'ServiceAccount');
    expect(spec.serviceAccountName).toBe(sa.metadata.name);
    expect(docs.find((d) => d.kind === 'Service').spec.internalTrafficPolicy).toBe('Cluster');
  });

  it('mode=sidecar: only the ConfigMap; the notes carry a native sidecar snippet that checks out', () => {
    const docs = render('mode=sidecar');
    expect(docs.map((d) => d.kind)).toEqual(['ConfigMap']);
    const r = helm(['install', 'rel', CHART, '--namespace', 'obs', '--dry-run=client', '--set', 'mode=sidecar']);
    expect(r.status, r.stderr).toBe(0);
    const notes = r.stdout.slice(r.stdout.indexOf('NOTES:'));
    const snippet = notes.slice(notes.indexOf('# Add to the pod template'), notes.indexOf('\nSignals and series'));
    const spec = parseYaml(snippet) as K8s;
    const pod = { kind: 'Pod', metadata: { name: 'app' }, spec: { ...spec, containers: [{ name: 'app', image: 'registry.example.com/app:1' }] } };
    checkWorkload(pod, docs, 'sidecar', 'helm sidecar notes');
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(30);
  });

  it('derives the heap from the memory limit and the grace period from shutdown_timeout, and refuses bad values', () => {
    const env = (docs: K8s[]) => containerEnv(frictionContainer(podSpecOf(docs.find((d) => WORKLOAD_KINDS.includes(d.kind)))).container, FIELD_VALUES);
    expect(env(render('resources.limits.memory=1Gi')).NODE_OPTIONS).toBe('--max-old-space-size=768');
    expect(env(render('resources.limits.memory=1Gi')).OTEL_FRICTION_MAX_INFLIGHT_MIB).toBe('128');
    const spec = podSpecOf(render('config.shutdown_timeout=1m30s').find((d) => d.kind === 'DaemonSet'));
    expect(spec.terminationGracePeriodSeconds).toBe(110);
    const refused = (sets: string[], message: RegExp) => {
      const r = helm(['template', 'rel', CHART, ...sets.flatMap((s) => ['--set', s])]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(message);
    };
    refused(['terminationGracePeriodSeconds=12'], /must exceed config.shutdown_timeout \(10s\) by 5s/);
    refused(['mode=gateway'], /mode must be sidecar, daemonset or deployment/);
    refused(['config.shutdown_timeout=${env:X}'], /must be a literal duration/);
    refused(['resources.limits.memory=lots'], /cannot read "lots"/);
  });
});
