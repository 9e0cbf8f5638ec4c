/**
 * Extra reference: a @grpc/grpc-js server with an identity (raw bytes) deserializer answering
 * TraceService/Export with an empty message. grpc-js keeps the 64 KiB default HTTP/2 window.
 */
import grpc from '@grpc/grpc-js';
import { GRPC_TRACE_PATH } from '../lib/otlp.mjs';
import { lifecycle, parseArgs, stats } from './common.mjs';

const args = parseArgs(process.argv.slice(2));
const port = Number(args.port);
const EMPTY = Buffer.alloc(0);
const identity = (b) => b;

const service = {
  Export: {
    path: GRPC_TRACE_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
server.addService(service, {
  Export(call, callback) {
    stats.requests++;
    stats.bytes += call.request.length;
    callback(null, EMPTY);
  },
});
server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) {
    process.stderr.write(`bind failed: ${err.message}\n`);
    process.exit(1);
  }
  lifecycle(() => server.forceShutdown());
});
