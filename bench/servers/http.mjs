/**
 * OTLP/HTTP reference server on node:http (the sidecar's HTTP transport): POST /v1/traces.
 *   --mode noop   drains the body and answers 200 with an empty body
 *   --mode naive  protobufjs decode + toObject + one object per span, answers the encoded
 *                 (empty) ExportTraceServiceResponse
 */
import http from 'node:http';
import { lifecycle, makeNaiveDecoder, parseArgs, stats } from './common.mjs';

const args = parseArgs(process.argv.slice(2));
const port = Number(args.port);
const mode = args.mode ?? 'noop';
const naive = mode === 'naive' ? makeNaiveDecoder() : undefined;

const server = http.createServer({ keepAliveTimeout: 30_000, requestTimeout: 60_000 }, (req, res) => {
  if (req.method !== 'POST' || req.url !== '/v1/traces') {
    stats.errors++;
    res.writeHead(404).end();
    req.resume();
    return;
  }
  const chunks = [];
  let received = 0;
  req.on('data', (chunk) => {
    received += chunk.length;
    if (naive) chunks.push(chunk);
  });
  req.on('end', () => {
    let body = '';
    if (naive) {
      try {
        naive.decode(Buffer.concat(chunks, received));
        body = naive.response;
      } catch (err) {
        stats.errors++;
        res.writeHead(400, { 'content-type': 'text/plain' }).end(String(err.message));
        return;
      }
    }
    stats.requests++;
    stats.bytes += received;
    res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': body.length });
    res.end(body);
  });
});

server.listen(port, '127.0.0.1', () => lifecycle(() => server.close()));
