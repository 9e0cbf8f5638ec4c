/**
 * Process plumbing for the harness: CPU pinning, free ports, per-process CPU time from
 * /proc/<pid>/stat, and a registry of children that are always killed on exit.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';

const children = new Set();

/** Kills every child still running (SIGKILL). Safe to call many times. */
export function killAll() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  children.clear();
}

let hooked = false;
/** Makes sure no child outlives the harness, however it ends. */
export function installExitHooks() {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      killAll();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (err) => {
    process.stderr.write(`bench: ${err.stack ?? err}\n`);
    killAll();
    process.exit(1);
  });
}

/** CPUs this process may run on (Cpus_allowed_list), e.g. [0, 1]. */
export function allowedCpus() {
  try {
    const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('Cpus_allowed_list:'));
    const list = [];
    for (const part of line.split(':')[1].trim().split(',')) {
      const [a, b] = part.split('-').map(Number);
      for (let c = a; c <= (b ?? a); c++) list.push(c);
    }
    if (list.length > 0) return list;
  } catch {
    // not Linux
  }
  return os.cpus().map((_, i) => i);
}

/** { server: '0', generator: '1' } when taskset exists and two CPUs are allowed, else null. */
export function pinning() {
  if (process.env.BENCH_NO_PIN === '1') return null;
  const cpus = allowedCpus();
  if (cpus.length < 2) return null;
  const r = spawnSync('taskset', ['-V'], { stdio: 'ignore' });
  if (r.error || r.status !== 0) return null;
  return { server: String(cpus[0]), generator: String(cpus[1]) };
}

/** Clock ticks per second for /proc/<pid>/stat. */
export function clockTicks() {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(String(r.stdout).trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
}

const PAGE_SIZE = (() => {
  const r = spawnSync('getconf', ['PAGESIZE'], { encoding: 'utf8' });
  const n = Number(String(r.stdout).trim());
  return Number.isFinite(n) && n > 0 ? n : 4096;
})();

/** { ticks: utime + stime in clock ticks (all threads), minflt: minor page faults, rss: bytes } of a process. */
export function procStat(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the ")" that closes comm: state is field 3; minflt 10, utime 14, stime 15, rss 24.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { ticks: Number(rest[11]) + Number(rest[12]), minflt: Number(rest[7]), rss: Number(rest[21]) * PAGE_SIZE };
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** `count` distinct free ports. */
export async function freePorts(count) {
  const ports = new Set();
  for (let i = 0; ports.size < count && i < count * 20; i++) ports.add(await freePort());
  if (ports.size < count) throw new Error('could not find free ports');
  return [...ports];
}

/**
 * Spawns `node [nodeFlags] script args` (through `taskset -c cpu` when pinned).
 * With ipc, the child gets a process.send channel. Output is kept (last 8 KiB) for errors.
 */
export function spawnNode({ script, args = [], nodeFlags = [], env = {}, cpu, ipc = false, cwd }) {
  const nodeArgs = [...nodeFlags, script, ...args];
  const [cmd, argv] = cpu !== undefined ? ['taskset', ['-c', cpu, process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const child = spawn(cmd, argv, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ipc ? ['pipe', 'pipe', 'pipe', 'ipc'] : ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  child.output = '';
  const keep = (d) => {
    child.output = (child.output + d.toString()).slice(-8192);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    children.delete(child);
    resolve({ code, signal });
  }));
  child.once('error', (err) => keep(`spawn error: ${err.message}\n`));
  return child;
}

/** Resolves when `predicate(output)` holds; rejects on exit or after timeoutMs. */
export function waitForOutput(child, predicate, timeoutMs) {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (predicate(child.output)) {
        cleanup();
        resolve();
      }
    };
    const onExit = () => {
      cleanup();
      reject(new Error(`process exited before it was ready:\n${child.output}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`not ready after ${timeoutMs} ms:\n${child.output}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout.off('data', check);
      child.off('exit', onExit);
    };
    child.stdout.on('data', check);
    child.once('exit', onExit);
    check();
  });
}

/** Asks a child to stop (SIGTERM), SIGKILL after graceMs. Resolves when it is gone. */
export async function stopChild(child, graceMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return child.exited;
  try {
    child.kill('SIGTERM');
  } catch {
    // gone
  }
  const timer = setTimeout(() => {
    try {
      child.kill('SIGKILL');
    } catch {
      // gone
    }
  }, graceMs);
  const r = await child.exited;
  clearTimeout(timer);
  return r;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Per-CPU jiffies from /proc/stat: { [cpu]: { busy, idle, steal } } (idle includes iowait). */
export function cpuTimes() {
  const out = {};
  try {
    for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
      const m = /^cpu(\d+)\s+(.*)$/.exec(line);
      if (!m) continue;
      const [user, nice, system, idle, iowait, irq, softirq, steal] = m[2].split(/\s+/).map(Number);
      out[m[1]] = { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal };
    }
  } catch {
    // not Linux
  }
  return out;
}

/** Busy and steal fraction of one CPU between two cpuTimes() snapshots. */
export function cpuShare(a, b, cpu) {
  const x = a[cpu];
  const y = b[cpu];
  if (!x || !y) return { busy: NaN, steal: NaN };
  const busy = y.busy - x.busy;
  const steal = y.steal - x.steal;
  const total = busy + (y.idle - x.idle) + steal;
  return total > 0 ? { busy: busy / total, steal: steal / total } : { busy: NaN, steal: NaN };
}
