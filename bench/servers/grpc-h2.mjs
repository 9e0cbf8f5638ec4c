/**
 * gRPC reference server on node:http2 — the same transport as the sidecar's receiver
 * (same SETTINGS window, connection window and session memory), answering every
 * TraceService/Export with grpc-status 0 and an empty message.
 *   --mode noop   reads the frame (length prefix + bytes) without decoding
 *   --mode naive  protobufjs decode + toObject + one object per span
 */
import http2 from 'node:http2';
import { GRPC_TRACE_PATH } from '../lib/otlp.mjs';
import { lifecycle, makeNaiveDecoder, parseArgs, stats } from './common.mjs';

const args = parseArgs(process.argv.slice(2));
const port = Number(args.port);
const mode = args.mode ?? 'noop';
const window = Math.min(Math.floor(Number(args['window-mib'] ?? 16) * 1024 * 1024), 2 ** 31 - 1);
const naive = mode === 'naive' ? makeNaiveDecoder() : undefined;
const reply = Buffer.alloc(5); // uncompressed, zero-length message

const server = http2.createServer({
  settings: { initialWindowSize: window, maxConcurrentStreams: 100 },
  maxSessionMemory: Math.max(10, Math.ceil((window * 2) / (1024 * 1024))),
});
server.on('session', (session) => {
  session.on('error', () => session.destroy());
  session.once('connect', () => {
    try {
      session.setLocalWindowSize(window);
    } catch {
      // closed already
    }
  });
});

function fail(stream, code, message) {
  stats.errors++;
  if (stream.destroyed || stream.headersSent) return;
  stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': message }, { endStream: true });
}

server.on('stream', (stream, headers) => {
  stream.on('error', () => undefined);
  if (headers[':path'] !== GRPC_TRACE_PATH) return fail(stream, 12, 'unimplemented');
  const chunks = [];
  let received = 0;
  stream.on('data', (chunk) => {
    received += chunk.length;
    if (naive) chunks.push(chunk);
    else if (chunks.length === 0) chunks.push(chunk); // keep the first chunk for the length prefix
  });
  stream.on('end', () => {
    const first = chunks[0];
    if (first === undefined || first.length < 5) return fail(stream, 13, 'short frame');
    const len = first.readUInt32BE(1);
    if (received !== len + 5) return fail(stream, 13, `frame length ${len} but ${received - 5} bytes`);
    let answer = reply;
    if (naive) {
      try {
        const body = Buffer.concat(chunks, received).subarray(5);
        naive.decode(body);
        answer = Buffer.alloc(5 + naive.response.length);
        answer.writeUInt32BE(naive.response.length, 1);
        naive.response.copy(answer, 5);
      } catch (err) {
        return fail(stream, 3, String(err.message).slice(0, 100));
      }
    }
    stats.requests++;
    stats.bytes += received;
    if (stream.destroyed) return;
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(answer);
  });
});

server.listen(port, '127.0.0.1', () => lifecycle(() => server.close()));
