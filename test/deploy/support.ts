/**
 * Helpers for the deployment tests: a Dockerfile reader and Kubernetes manifest accessors.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(ROOT, 'dist/cli.js');
export const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string>; devDependencies: Record<string, string> };
/** The image every manifest and the chart use. */
export const IMAGE = `ghcr.io/otel-friction/otel-friction:${PACKAGE.version}`;

// ---------------------------------------------------------------------------------------------
// Dockerfile

/** One instruction, continuation lines joined and comment lines dropped, as Docker reads them. */
export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i];
    if (/^\s*(#|$)/.test(line)) continue;
    let joined = '';
    while (line.trimEnd().endsWith('\\')) {
      joined += `${line.trimEnd().slice(0, -1)}\n`;
      // Docker drops comment lines inside a continued instruction.
      do line = lines[++i];
      while (/^\s*#/.test(line));
    }
    joined += line;
    const m = /^\s*(\w+)\s+([\s\S]*)$/.exec(joined);
    if (m === null) throw new Error(`Dockerfile line ${start + 1}: cannot read ${JSON.stringify(joined)}`);
    const ins = { keyword: m[1].toUpperCase(), args: m[2].trim(), line: start + 1 };
    if (ins.keyword === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (f === null) throw new Error(`Dockerfile line ${start + 1}: FROM ${ins.args}`);
      stages.push({ name: f[2] ?? `stage${stages.length}`, image: f[1], instructions: [] });
    } else {
      if (stages.length === 0) throw new Error(`Dockerfile line ${start + 1}: ${ins.keyword} before FROM`);
      stages[stages.length - 1].instructions.push(ins);
    }
  }
  return stages;
}

/** The shell commands of a RUN, one per `&&` (the Dockerfile keeps one command per `&&`). */
export function runCommands(args: string): string[] {
  return args
    .split(/\s*&&\s*/)
    .map((c) => c.replace(/\s*\n\s*/g, ' ').trim())
    .filter((c) => c !== '');
}

/** `["a", "b"]` (exec form) → array; shell form → `sh -c` as Docker runs it. */
export function execForm(args: string): string[] {
  return args.startsWith('[') ? (JSON.parse(args) as string[]) : ['/bin/sh', '-c', args];
}

/** `ENV A=1 \ B=2` → { A: '1', B: '2' } (unquoted values, as in this Dockerfile). */
export function envPairs(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) out[m[1]] = m[2].replace(/^"|"$/g, '');
  return out;
}

// ---------------------------------------------------------------------------------------------
// Kubernetes

// Manifests are loosely typed on purpose: the tests check the shape they need.
export type K8s = any;

/** Every document of a YAML stream, failing on any parse error or warning. */
export function parseStream(text: string, source: string): K8s[] {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new Error(`${source}: not a YAML stream`);
  const out: K8s[] = [];
  for (const doc of docs) {
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) throw new Error(`${source}: ${problems.map((e) => e.message).join('; ')}`);
    const js = doc.toJS();
    if (js !== null && js !== undefined) out.push(js);
  }
  return out;
}

export const WORKLOAD_KINDS = ['Deployment', 'DaemonSet', 'StatefulSet', 'Pod'];

export function podSpecOf(workload: K8s): K8s {
  return workload.kind === 'Pod' ? workload.spec : workload.spec.template.spec;
}

/** The otel-friction container of a pod: the image's entrypoint, not a helper with its own command. */
export function frictionContainer(spec: K8s): { container: K8s; init: boolean } {
  const found: { container: K8s; init: boolean }[] = [];
  for (const [list, init] of [[spec.containers ?? [], false], [spec.initContainers ?? [], true]] as const) {
    for (const c of list) if (String(c.image).startsWith('ghcr.io/otel-friction/') && c.command === undefined) found.push({ container: c, init });
  }
  if (found.length !== 1) throw new Error(`expected one otel-friction container, found ${found.length}`);
  return found[0];
}

export function envVar(container: K8s, name: string): K8s | undefined {
  return (container.env ?? []).find((e: K8s) => e.name === name);
}

/**
 * The container's environment as the kubelet gives it: literal values with `$(VAR)` expanded
 * from earlier entries, downward-API fields from `fieldValues`.
 */
export function containerEnv(container: K8s, fieldValues: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = String(e.value).replace(/\$\((\w+)\)/g, (all, v: string) => env[v] ?? all);
    else if (e.valueFrom?.fieldRef !== undefined) {
      const v = fieldValues[e.valueFrom.fieldRef.fieldPath];
      if (v === undefined) throw new Error(`no sample value for fieldRef ${e.valueFrom.fieldRef.fieldPath}`);
      env[e.name] = v;
    } else throw new Error(`env ${e.name}: unsupported source ${JSON.stringify(e.valueFrom)}`);
  }
  return env;
}

/** A named or numbered container port → its number. */
export function portNumber(container: K8s, port: string | number): number {
  if (typeof port === 'number') return port;
  const p = (container.ports ?? []).find((x: K8s) => x.name === port);
  if (p === undefined) throw new Error(`container ${container.name} has no port named ${port}`);
  return p.containerPort;
}

/** Kubernetes quantity (`512Mi`, `1Gi`, `1.5G`, bytes) → MiB. */
export function mebibytes(quantity: string | number): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(quantity));
  if (m === null) throw new Error(`cannot read memory quantity ${quantity}`);
  const factor: Record<string, number> = { '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return (Number(m[1]) * factor[m[2] ?? '']) / 2 ** 20;
}

/** `node dist/cli.js validate --config <temp file>` with exactly `env` (plus PATH). */
export function validateWithCli(configYaml: string, env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const file = join(mkdtempSync(join(tmpdir(), 'otel-friction-deploy-')), 'config.yaml');
  writeFileSync(file, configYaml);
  const r = spawnSync(process.execPath, [CLI, 'validate', '--config', file], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
