/**
 * The sidecar's log: pino JSON lines on stdout, as log collectors in a pod expect.
 * Nothing is logged per request at info level; bounded conditions log once with a count.
 */
import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/index.js';

/** Creates the process logger. */
export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { service: 'otel-friction' }, timestamp: pino.stdTimeFunctions.isoTime });
}
