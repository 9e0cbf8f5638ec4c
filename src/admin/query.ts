/** Shared reading of admin API query parameters: each reader reports a problem by name. */
import { parseDuration } from '../config/index.js';
import { ErrorCodes } from '../errors.js';
import type { AdminResponse } from './admin-server.js';

/** A 400 answer naming the parameter and what it accepts. */
export function badRequest(message: string): AdminResponse {
  return { status: 400, body: { error: message, code: ErrorCodes.API_BAD_REQUEST.code } };
}

/** Thrown by the readers below; routes turn it into {@link badRequest}. */
export class QueryError extends Error {}

/** Runs a route body, answering 400 for a {@link QueryError}. */
export function answering(body: () => AdminResponse): AdminResponse {
  try {
    return body();
  } catch (err) {
    if (err instanceof QueryError) return badRequest(err.message);
    throw err;
  }
}

/** `limit`: an integer 1..max, default `def`. */
export function limitParam(query: URLSearchParams, def: number, max: number): number {
  const text = query.get('limit');
  if (text === null) return def;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new QueryError(`limit: expected an integer from 1 to ${max}, got "${text}"`);
  return n;
}

/** One of `values`, or undefined when absent. */
export function enumParam<const V extends string>(query: URLSearchParams, name: string, values: readonly V[], def?: V): V | undefined {
  const text = query.get(name);
  if (text === null) return def;
  if (!(values as readonly string[]).includes(text)) throw new QueryError(`${name}: expected one of ${values.join(', ')}, got "${text}"`);
  return text as V;
}

/**
 * A point in time: RFC 3339 (`2026-11-25T10:00:00Z`), or a duration meaning that long ago
 * (`24h`, `30m`). Undefined when absent.
 */
export function timeParam(query: URLSearchParams, name: string, now: number): number | undefined {
  const text = query.get(name);
  if (text === null) return undefined;
  const ago = parseDuration(text);
  if (ago !== undefined) return now - ago;
  const at = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(at)) throw new QueryError(`${name}: expected an RFC 3339 time such as 2026-11-25T10:00:00Z or a duration such as 24h, got "${text}"`);
  return at;
}
