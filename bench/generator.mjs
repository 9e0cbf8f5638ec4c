/**
 * Load generator, run as a separate process (pinned to its own core by the harness).
 * Keeps `inflight` pre-encoded OTLP trace requests outstanding against one server, over raw
 * node:http2 gRPC frames or node:http POST /v1/traces, and counts only successful answers.
 *
 * Driven over IPC by bench/run.mjs:
 *   argv[2] = JSON { protocol: 'grpc'|'http', port, inflight, poolFile, maxSeconds, gzip? }
 * With `gzip` every request is gzip-compressed once up front (zlib's default level, as the SDKs
 * send it) and sent with grpc-encoding / content-encoding gzip.
 *   → 'started' once the first answer came back (connection is warm)
 *   ← 'mark'   start of the measured window   → 'marked'
 *   ← 'stop'   end of the window: stop issuing, drain, → 'result', exit
 * It exits by itself after maxSeconds whatever happens, and when the IPC channel closes.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import { gzipSync } from 'node:zlib';
import { GRPC_TRACE_PATH } from './lib/otlp.mjs';
import { deserializePool } from './lib/payload.mjs';

const cfg = JSON.parse(process.argv[2]);
const GZIP = cfg.gzip === true;
const payloads = deserializePool(readFileSync(cfg.poolFile)).map((p) => (GZIP ? gzipSync(p) : p));
const WINDOW = 16 * 1024 * 1024;
const MAX_RECONNECTS = 5;

const counters = { ok: 0, failed: 0, inflight: 0 };
const failures = new Map(); // reason -> count
let stopping = false;
let next = 0;
let startedSent = false;
let mark;
// Latencies (ms) of requests answered inside the measured window, for diagnostics. Bounded.
const MAX_LATENCIES = 200_000;
const latencies = [];
let measuring = false;

function send(msg) {
  if (process.connected) process.send(msg);
}

function failure(reason) {
  counters.failed++;
  failures.set(reason, (failures.get(reason) ?? 0) + 1);
}

function succeeded() {
  counters.ok++;
  if (!startedSent) {
    startedSent = true;
    send({ evt: 'started' });
  }
}

// --- gRPC over raw node:http2 --------------------------------------------------------------
const frames = payloads.map((p) => {
  const f = Buffer.allocUnsafe(5 + p.length);
  f[0] = GZIP ? 1 : 0;
  f.writeUInt32BE(p.length, 1);
  p.copy(f, 5);
  return f;
});
const GRPC_HEADERS = {
  ':method': 'POST',
  ':path': GRPC_TRACE_PATH,
  ':scheme': 'http',
  ':authority': `127.0.0.1:${cfg.port}`,
  'content-type': 'application/grpc',
  te: 'trailers',
  'grpc-accept-encoding': 'identity',
  'user-agent': 'otel-friction-bench/1',
  ...(GZIP ? { 'grpc-encoding': 'gzip' } : {}),
};
const SESSIONS = Math.max(1, cfg.sessions ?? 1);
const sessions = new Array(SESSIONS);
let session;
let reconnects = 0;
let rr = 0;

function grpcSession() {
  const slot = rr++ % SESSIONS;
  session = sessions[slot];
  if (session && !session.closed && !session.destroyed) return session;
  if (session && ++reconnects > MAX_RECONNECTS) return undefined;
  const s = http2.connect(`http://127.0.0.1:${cfg.port}`, {
    settings: { initialWindowSize: WINDOW, maxConcurrentStreams: 1000 },
    maxSessionMemory: 256,
  });
  s.on('error', (err) => failure(`session: ${err.code ?? err.message}`));
  s.once('connect', () => {
    try {
      s.setLocalWindowSize(WINDOW);
    } catch {
      // closed already
    }
  });
  sessions[slot] = s;
  session = s;
  return s;
}

function grpcRequest(done) {
  const s = grpcSession();
  if (s === undefined) return done(false, 'too many reconnects');
  let status;
  let finished = false;
  const finish = (ok, reason) => {
    if (finished) return;
    finished = true;
    done(ok, reason);
  };
  let req;
  try {
    req = s.request(GRPC_HEADERS, { endStream: false });
  } catch (err) {
    return setImmediate(() => finish(false, `request: ${err.code ?? err.message}`));
  }
  req.on('response', (headers) => {
    if (headers[':status'] !== 200) status = `http ${headers[':status']}`;
    else if (headers['grpc-status'] !== undefined) status = String(headers['grpc-status']); // trailers-only
  });
  req.on('trailers', (trailers) => {
    if (trailers['grpc-status'] !== undefined) status = String(trailers['grpc-status']);
  });
  req.on('data', () => undefined);
  req.on('error', (err) => finish(false, `stream: ${err.code ?? err.message}`));
  req.on('close', () => finish(status === '0', status === '0' ? '' : `grpc-status ${status}`));
  req.end(frames[next++ % frames.length]);
}

// --- OTLP/HTTP over node:http ---------------------------------------------------------------
const agent = new http.Agent({ keepAlive: true, maxSockets: cfg.inflight, maxFreeSockets: cfg.inflight });

function httpRequest(done) {
  const body = payloads[next++ % payloads.length];
  let finished = false;
  const finish = (ok, reason) => {
    if (finished) return;
    finished = true;
    done(ok, reason);
  };
  const req = http.request(
    {
      host: '127.0.0.1',
      port: cfg.port,
      method: 'POST',
      path: '/v1/traces',
      agent,
      headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length, ...(GZIP ? { 'content-encoding': 'gzip' } : {}) },
    },
    (res) => {
      res.on('data', () => undefined);
      res.on('end', () => finish(res.statusCode === 200, `http ${res.statusCode}`));
      res.on('error', (err) => finish(false, `response: ${err.code ?? err.message}`));
    },
  );
  req.on('error', (err) => finish(false, `request: ${err.code ?? err.message}`));
  req.end(body);
}

// --- driver ---------------------------------------------------------------------------------
const issue = cfg.protocol === 'grpc' ? grpcRequest : httpRequest;
let consecutiveFailures = 0;

function launch() {
  if (stopping) return;
  counters.inflight++;
  const t0 = performance.now();
  issue((ok, reason) => {
    counters.inflight--;
    if (measuring && latencies.length < MAX_LATENCIES) latencies.push(performance.now() - t0);
    if (ok) {
      consecutiveFailures = 0;
      succeeded();
    } else {
      consecutiveFailures++;
      failure(reason);
    }
    if (stopping) {
      if (counters.inflight === 0) finishRun();
      return;
    }
    // A server that refuses everything gets a pause instead of a busy loop.
    if (consecutiveFailures > 100) setTimeout(launch, 10);
    else launch();
  });
}

function snapshot() {
  return { t: process.hrtime.bigint(), ok: counters.ok, failed: counters.failed, cpu: process.cpuUsage() };
}

let end;
let resultSent = false;
function finishRun() {
  if (resultSent) return;
  resultSent = true;
  const m = mark ?? end;
  const seconds = Number(end.t - m.t) / 1e9;
  const cpuSeconds = (end.cpu.user - m.cpu.user + end.cpu.system - m.cpu.system) / 1e6;
  latencies.sort((a, b) => a - b);
  const q = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : NaN);
  send({
    evt: 'result',
    windowOk: end.ok - m.ok,
    windowFailed: end.failed - m.failed,
    windowSeconds: seconds,
    clientCores: seconds > 0 ? cpuSeconds / seconds : 0,
    okTotal: counters.ok,
    failedTotal: counters.failed,
    failures: Object.fromEntries([...failures].slice(0, 5)),
    stillInflight: counters.inflight,
    latencyMs: { p50: q(0.5), p99: q(0.99), max: latencies.at(-1) ?? NaN },
  });
  agent.destroy();
  for (const s of sessions) s?.destroy();
  setTimeout(() => process.exit(0), 50).unref();
}

process.on('message', (msg) => {
  if (msg === 'mark') {
    mark = snapshot();
    measuring = true;
    send({ evt: 'marked' });
  } else if (msg === 'stop') {
    end = snapshot();
    measuring = false;
    stopping = true;
    if (counters.inflight === 0) finishRun();
    // In-flight requests get a bounded time to finish; they do not count in the window.
    setTimeout(finishRun, 5000).unref();
  }
});
process.on('disconnect', () => process.exit(0));
setTimeout(() => process.exit(3), (cfg.maxSeconds ?? 60) * 1000).unref();
// Keep the process alive until told to stop (the timer above is unref'd).
const keepAlive = setInterval(() => undefined, 1000);
process.on('exit', () => clearInterval(keepAlive));

for (let i = 0; i < cfg.inflight; i++) launch();
