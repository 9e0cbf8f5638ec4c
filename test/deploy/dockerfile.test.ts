/**
 * The container image without a Docker engine: this test reads the Dockerfile and runs its own
 * RUN commands (build, pack, production-only install from the lockfile, the better-sqlite3
 * rebuild, the pruning and the addon check), emulating its COPY/WORKDIR/ENV, in a temporary
 * directory that stands in for the image's file system (/app, /pkg, /tmp/pkg, /etc/otel-friction,
 * /var/lib/otel-friction are mapped there). Then it starts the image's ENTRYPOINT + CMD — tini,
 * node with the image's flags, the packed dist/cli.js, the baked config — waits for /healthz and
 * /readyz, fetches the dashboard page, runs the HEALTHCHECK command, sends SIGTERM to tini and
 * expects exit 0.
 *
 * Slow but bounded: the native addon compiles from source here (~1.5 min on 2 cores, no
 * prebuilt downloads on this network); every command has a time limit and the file stays
 * under 5 minutes. Commands that are not run are listed in NOT_RUN with the reason.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { ensureDebianBinary } from '../support/debian.js';
import { freePort } from '../support/sidecar-process.js';
import { PACKAGE, ROOT, type Stage, envPairs, execForm, parseDockerfile, runCommands } from './support.js';

const DOCKERFILE = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(DOCKERFILE);
const final = stages[stages.length - 1];
const byKeyword = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);
const last = (stage: Stage, keyword: string) => byKeyword(stage, keyword).at(-1)?.args;
const dockerConfigText = readFileSync(join(ROOT, 'deploy/docker/config.yaml'), 'utf8');

/** Commands of RUN lines that this test does not run, and why; every other command runs. */
const NOT_RUN: { stage: string; pattern: RegExp; why: string }[] = [
  { stage: 'build', pattern: /^npm ci --ignore-scripts$/, why: "the repository's node_modules is this install (the suite runs after npm ci)" },
  { stage: '*', pattern: /^apt-get update$/, why: 'Debian package lists' },
  { stage: '*', pattern: /^apt-get install -y --no-install-recommends [\w+. -]+$/, why: 'Debian packages: each must exist here (installed on first use, like test/support/debian.ts)' },
  { stage: '*', pattern: /^rm -rf \/var\/lib\/apt\/lists\/\*$/, why: 'apt cache cleanup' },
  { stage: '*', pattern: /^chown 1000:1000 \/var\/lib\/otel-friction$/, why: "ownership for the image's USER; here the test owns its directory" },
];

/** The commands the issue names, in this order, in the production-dependencies stage. */
const REQUIRED_RUNTIME_COMMANDS = [
  /^tar -xzf \/tmp\/pkg\/otel-friction-\*\.tgz --strip-components=1 -C \/app$/,
  /^cp \/tmp\/pkg\/package-lock\.json \/app\/package-lock\.json$/,
  /^npm ci --omit=dev --ignore-scripts$/,
  /^npm rebuild better-sqlite3$/,
  /^node -e "new \(require\('better-sqlite3'\)\)\(':memory:'\)\.close\(\)"$/,
];

/** The default of a `${env:VAR:-default}` value in the docker config. */
function envDefault(text: string): string {
  const m = /^\$\{env:\w+:-([^}]*)\}$/.exec(text);
  if (m === null) throw new Error(`expected \${env:VAR:-default}, got ${text}`);
  return m[1];
}

describe('Dockerfile (static)', () => {
  it('has build, runtime-deps and final stages on one base image (same glibc and Node ABI for the addon)', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'runtime-deps', 'runtime']);
    expect(new Set(stages.map((s) => s.image)).size).toBe(1);
    expect(stages[0].image).toMatch(/^node:20-/);
  });

  it('installs production dependencies only, with the commands of the issue, in order', () => {
    const cmds = byKeyword(stages[1], 'RUN').flatMap((r) => runCommands(r.args));
    const positions = REQUIRED_RUNTIME_COMMANDS.map((re) => cmds.findIndex((c) => re.test(c)));
    expect(positions.every((p) => p >= 0), `missing one of ${REQUIRED_RUNTIME_COMMANDS.join(', ')} in ${cmds.join(' | ')}`).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    const finalCmds = byKeyword(final, 'RUN').flatMap((r) => runCommands(r.args));
    expect(finalCmds.filter((c) => /\bnpm\b|g\+\+|\bmake\b|python/.test(c))).toEqual([]);
    expect(byKeyword(final, 'COPY').map((c) => c.args)).toContain('--from=runtime-deps /app /app');
  });

  it('runs as a numeric non-root user, with tini as PID 1 and the start script\'s node flags', () => {
    const user = last(final, 'USER') ?? '';
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user.split(':')[0])).toBeGreaterThan(0);
    const entrypoint = execForm(last(final, 'ENTRYPOINT') ?? '');
    expect(entrypoint.slice(0, 3)).toEqual(['/usr/bin/tini', '--', 'node']);
    const apt = byKeyword(final, 'RUN').flatMap((r) => runCommands(r.args)).find((c) => c.startsWith('apt-get install'));
    expect(apt?.split(/\s+/)).toContain('tini');
    // npm start: node <flags> dist/cli.js run — the image uses the same flags.
    const start = PACKAGE as unknown as { scripts: Record<string, string> };
    const startFlags = start.scripts.start.split(/\s+/).filter((w) => w.startsWith('--'));
    expect(startFlags).toContain('--max-semi-space-size=1');
    expect(entrypoint.filter((w) => w.startsWith('--max'))).toEqual(startFlags);
    expect(entrypoint.at(-1)).toBe('/app/dist/cli.js');
    expect(execForm(last(final, 'CMD') ?? '')).toEqual(['run']);
  });

  it('exposes the default ports, keeps state in a volume, and bakes the docker config', () => {
    const docker = parseYaml(dockerConfigText);
    const defaults = defaultConfig();
    const ports = [
      defaults.receivers.otlp.protocols.grpc.endpoint.port,
      defaults.receivers.otlp.protocols.http.endpoint.port,
      defaults.admin.endpoint.port,
    ];
    expect(ports).toEqual([4317, 4318, 13133]);
    const dockerPorts = [docker.receivers.otlp.protocols.grpc.endpoint, docker.receivers.otlp.protocols.http.endpoint, docker.admin.endpoint].map(
      (e: string) => Number(envDefault(e).split(':')[1]),
    );
    expect(dockerPorts).toEqual(ports);
    expect((last(final, 'EXPOSE') ?? '').split(/\s+/).map(Number)).toEqual(ports);
    const volume = JSON.parse(last(final, 'VOLUME') ?? '[]') as string[];
    expect(volume).toEqual([envDefault(docker.state.path)]);
    const env = envPairs(byKeyword(final, 'ENV').map((e) => e.args).join(' '));
    expect(byKeyword(final, 'COPY').map((c) => c.args)).toContain(`deploy/docker/config.yaml ${env.OTEL_FRICTION_CONFIG}`);
    expect(env.NODE_ENV).toBe('production');
  });

  it('has a HEALTHCHECK on /healthz of the admin endpoint', () => {
    const hc = last(final, 'HEALTHCHECK') ?? '';
    const m = /^((?:--\S+\s+)*)CMD\s+(\[.*\])$/s.exec(hc);
    expect(m).not.toBeNull();
    const cmd = JSON.parse(m![2]) as string[];
    expect(cmd[0]).toBe('node');
    expect(cmd.join(' ')).toMatch(/\/healthz/);
    expect(cmd.join(' ')).toMatch(/OTEL_FRICTION_ADMIN_ENDPOINT/);
    expect(m![1]).toMatch(/--timeout=\d+s/);
  });

  it('.dockerignore lets through exactly what the Dockerfile copies from the context', () => {
    const lines = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines[0]).toBe('*');
    const allowed = lines.slice(1).map((l) => l.replace(/^!/, '').replace(/\/$/, ''));
    const copied = stages
      .flatMap((s) => byKeyword(s, 'COPY'))
      .filter((c) => !c.args.startsWith('--from='))
      .flatMap((c) => c.args.split(/\s+/).slice(0, -1))
      .map((src) => src.replace(/\/$/, ''));
    expect(new Set(copied)).toEqual(new Set(allowed));
    for (const src of copied) expect(existsSync(join(ROOT, src)), src).toBe(true);
  });
});

describe('Dockerfile (its commands, run here)', () => {
  const T = mkdtempSync(join(tmpdir(), 'otel-friction-docker-'));
  // Longest first; a path maps only at a path boundary (so /tmp/pkg is not /pkg).
  const MAP: [string, string][] = [
    ['/var/lib/otel-friction', join(T, 'state')],
    ['/etc/otel-friction', join(T, 'etc')],
    ['/tmp/pkg', join(T, 'tmp-pkg')],
    ['/pkg', join(T, 'pkg')],
    ['/app', join(T, 'app')],
    ['/src', ROOT.replace(/\/$/, '')],
  ];
  const mapPaths = (text: string) =>
    text.replace(/(^|[\s='"(:,])(\/(?:var\/lib\/otel-friction|etc\/otel-friction|tmp\/pkg|pkg|app|src))(?=$|[/\s'"*),])/g, (_all, pre: string, p: string) => pre + MAP.find(([from]) => from === p)![1]);
  /** Absolute paths a mapped command would touch outside the test's directory and the repository. */
  const strayPaths = (cmd: string) => [...cmd.matchAll(/(?:^|[\s='"(])(\/[^\s'"()]*)/g)].map((m) => m[1]).filter((p) => !p.startsWith(T) && !p.startsWith(ROOT.replace(/\/$/, '')));

  // A clean environment like a build container's: no npm lifecycle variables from the runner.
  const baseEnv: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|INIT_CWD$|NODE_ENV$|NODE_OPTIONS$|OTEL_FRICTION_|VITEST)/i.test(k)) baseEnv[k] = v;

  const log: string[] = [];
  const skipped: string[] = [];
  let imageEnv: Record<string, string> = {};
  let workdir = ROOT;

  function copy(args: string, stage: Stage): void {
    const words = args.split(/\s+/);
    const from = words[0].startsWith('--from=') ? words.shift()!.slice('--from='.length) : undefined;
    const dst = words.pop()!;
    const dstPath = isAbsolute(dst) ? mapPaths(dst) : resolve(workdir, dst);
    for (const src of words) {
      const srcPath = from !== undefined ? mapPaths(src) : join(ROOT, src);
      if (from === undefined && stage.name === 'build') {
        // The build stage's /src is the repository itself.
        expect(existsSync(srcPath), src).toBe(true);
        continue;
      }
      if (resolve(srcPath) === resolve(dstPath)) continue;
      const target = dst.endsWith('/') && !statSync(srcPath).isDirectory() ? join(dstPath, basename(srcPath)) : dstPath;
      cpSync(srcPath, target, { recursive: true });
    }
  }

  function run(command: string, stage: Stage): void {
    const rule = NOT_RUN.find((r) => (r.stage === '*' || r.stage === stage.name) && r.pattern.test(command));
    if (rule !== undefined) {
      skipped.push(`${stage.name}: ${command} (${rule.why})`);
      const apt = /^apt-get install -y --no-install-recommends (.+)$/.exec(command);
      for (const pkg of apt?.[1].split(/\s+/) ?? []) ensureDebianBinary(pkg, `/usr/bin/${pkg}`);
      return;
    }
    const mapped = mapPaths(command);
    const stray = strayPaths(mapped);
    if (stray.length > 0) throw new Error(`Dockerfile command ${JSON.stringify(command)} touches ${stray.join(', ')}: map the path in this test or add a NOT_RUN rule`);
    const started = Date.now();
    const r = spawnSync('/bin/sh', ['-c', mapped], { cwd: workdir, env: { ...baseEnv, ...imageEnv }, encoding: 'utf8', timeout: 240_000, maxBuffer: 64 * 1024 * 1024 });
    log.push(`${stage.name}: ${command}  [${((Date.now() - started) / 1000).toFixed(1)} s]`);
    if (r.status !== 0) throw new Error(`Dockerfile command failed (${r.status ?? r.signal}): ${mapped}\n${r.stdout}\n${r.stderr}`);
  }

  beforeAll(() => {
    for (const stage of stages) {
      workdir = ROOT;
      // ENV persists within a stage only; the final stage's is the image's.
      imageEnv = {};
      for (const ins of stage.instructions) {
        switch (ins.keyword) {
          case 'WORKDIR':
            workdir = mapPaths(ins.args);
            mkdirSync(workdir, { recursive: true });
            break;
          case 'COPY':
            copy(ins.args, stage);
            break;
          case 'RUN':
            for (const c of runCommands(ins.args)) run(c, stage);
            break;
          case 'ENV':
            for (const [k, v] of Object.entries(envPairs(ins.args))) imageEnv[k] = mapPaths(v);
            break;
          case 'USER':
          case 'VOLUME':
          case 'EXPOSE':
          case 'HEALTHCHECK':
          case 'ENTRYPOINT':
          case 'CMD':
            break;
          default:
            throw new Error(`Dockerfile line ${ins.line}: ${ins.keyword} is not emulated by this test`);
        }
      }
    }
    console.log(`Dockerfile commands run:\n  ${log.join('\n  ')}\nnot run:\n  ${skipped.join('\n  ')}`);
  }, 300_000);

  afterAll(() => {
    // The tarball, node_modules and the addon's build take ~60 MB.
    spawnSync('rm', ['-rf', T]);
  });

  it('the image tree has the packed files and production dependencies only', () => {
    const app = join(T, 'app');
    expect(existsSync(join(app, 'dist/cli.js'))).toBe(true);
    expect(existsSync(join(app, 'proto'))).toBe(true);
    expect(existsSync(join(app, 'src'))).toBe(false);
    for (const dep of Object.keys(PACKAGE.dependencies)) expect(existsSync(join(app, 'node_modules', dep)), dep).toBe(true);
    for (const dev of Object.keys(PACKAGE.devDependencies)) {
      // A dev dependency may also be a production one's dependency (e.g. tdigest of a sketch lib).
      if (existsSync(join(app, 'node_modules', dev))) {
        const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8'));
        expect(lock.packages[`node_modules/${dev}`].dev ?? false, `${dev} is dev-only but installed`).toBe(false);
      }
    }
    expect(existsSync(join(app, 'node_modules/vitest'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/typescript'))).toBe(false);
    expect(readdirSync(join(app, 'node_modules/better-sqlite3/build/Release')).filter((f) => f !== '.deps')).toEqual(['better_sqlite3.node']);
  });

  it('ENTRYPOINT + CMD serve with the baked config: /healthz and /readyz 200, HEALTHCHECK passes, SIGTERM → exit 0', async () => {
    const ports = { grpc: await freePort(), http: await freePort(), admin: await freePort() };
    const env: NodeJS.ProcessEnv = {
      ...baseEnv,
      ...imageEnv,
      OTEL_FRICTION_GRPC_ENDPOINT: `127.0.0.1:${ports.grpc}`,
      OTEL_FRICTION_HTTP_ENDPOINT: `127.0.0.1:${ports.http}`,
      OTEL_FRICTION_ADMIN_ENDPOINT: `127.0.0.1:${ports.admin}`,
      OTEL_FRICTION_STATE_PATH: join(T, 'state-run'),
    };
    expect(env.OTEL_FRICTION_CONFIG).toBe(join(T, 'etc/config.yaml'));
    expect(readFileSync(env.OTEL_FRICTION_CONFIG!, 'utf8')).toBe(dockerConfigText);
    const argv = [...execForm(last(final, 'ENTRYPOINT')!), ...execForm(last(final, 'CMD')!)].map(mapPaths);
    const child: ChildProcess = spawn(argv[0], argv.slice(1), { cwd: mapPaths(last(final, 'WORKDIR')!), env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const admin = `http://127.0.0.1:${ports.admin}`;
    try {
      const deadline = Date.now() + 20_000;
      const status = async (path: string) => (await fetch(`${admin}${path}`).catch(() => undefined))?.status;
      while ((await status('/healthz')) !== 200 || (await status('/readyz')) !== 200) {
        if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before ready:\n${out}`);
        if (Date.now() > deadline) throw new Error(`not ready within 20 s:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }

      const span = {
        resourceSpans: [{
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'image-test' } }] },
          scopeSpans: [{ spans: [{ traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name: 'GET /', kind: 2, startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000250000000' }] }],
        }],
      };
      const res = await fetch(`http://127.0.0.1:${ports.http}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(span) });
      expect(res.status).toBe(200);

      // The dashboard's files come from the packed dist/ and the production node_modules (uPlot).
      for (const asset of ['/', '/assets/dashboard.js', '/assets/uPlot.iife.min.js']) expect(await status(asset), asset).toBe(200);

      const hc = JSON.parse(/CMD\s+(\[.*\])$/s.exec(last(final, 'HEALTHCHECK')!)![1]) as string[];
      const health = spawnSync(hc[0], hc.slice(1), { env, encoding: 'utf8', timeout: 10_000 });
      expect(health.status, health.stderr).toBe(0);

      child.kill('SIGTERM'); // to tini, which forwards it to node
      const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000))]);
      expect(code, out).toBe(0);
      expect(out).toMatch(/"msg":"stopped"/);
      expect(existsSync(join(T, 'state-run/otel-friction.db'))).toBe(true);
      // With the server gone, the HEALTHCHECK fails.
      expect(spawnSync(hc[0], hc.slice(1), { env, timeout: 10_000 }).status).toBe(1);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
