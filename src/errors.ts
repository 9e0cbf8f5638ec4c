/**
 * One registry of coded errors. Every error the sidecar raises on purpose carries a stable
 * `code` that users can look up in docs/errors.md, and says whether retrying can help.
 * A test keeps this table and the docs in step.
 */

/** Static description of one error code. */
export interface ErrorCodeSpec {
  /** Stable, documented identifier, `FRICTION_ERR_...`. */
  readonly code: string;
  /** Whether the same operation may succeed if retried later (transient condition). */
  readonly retryable: boolean;
  /** One-line meaning, mirrored in docs/errors.md. */
  readonly description: string;
}

function spec(code: string, retryable: boolean, description: string): ErrorCodeSpec {
  return { code, retryable, description };
}

/** Every error code the sidecar can raise. Append new codes at the end. */
export const ErrorCodes = {
  CONFIG_INVALID: spec('FRICTION_ERR_CONFIG_INVALID', false, 'The configuration failed validation; every problem is listed with its path.'),
  CONFIG_READ: spec('FRICTION_ERR_CONFIG_READ', false, 'The configuration file could not be read or is not valid YAML.'),
  CLI_USAGE: spec('FRICTION_ERR_CLI_USAGE', false, 'The command line is not understood.'),
  LISTEN: spec('FRICTION_ERR_LISTEN', false, 'A server could not bind its endpoint (address in use, permission denied, bad address).'),
  OTLP_DECODE: spec('FRICTION_ERR_OTLP_DECODE', false, 'An OTLP request body is not a valid protobuf or OTLP-JSON message.'),
  OTLP_TOO_LARGE: spec('FRICTION_ERR_OTLP_TOO_LARGE', false, 'An OTLP request (after decompression) exceeds the configured size limit.'),
  OTLP_UNSUPPORTED_MEDIA_TYPE: spec('FRICTION_ERR_OTLP_UNSUPPORTED_MEDIA_TYPE', false, 'An OTLP/HTTP request has a content type other than application/x-protobuf or application/json.'),
  OTLP_UNSUPPORTED_ENCODING: spec('FRICTION_ERR_OTLP_UNSUPPORTED_ENCODING', false, 'An OTLP request uses a compression other than gzip or identity.'),
  BACKPRESSURE: spec('FRICTION_ERR_BACKPRESSURE', true, 'Bytes accepted but not yet processed exceed limits.max_inflight_bytes_mib, or the forward queue is full (forward.queue.max_mb with when_full: backpressure); the client should retry later.'),
  SHUTTING_DOWN: spec('FRICTION_ERR_SHUTTING_DOWN', true, 'The sidecar is draining for shutdown and accepts no new requests.'),
  SHUTDOWN_TIMEOUT: spec('FRICTION_ERR_SHUTDOWN_TIMEOUT', false, 'Graceful shutdown did not finish within shutdown_timeout; remaining work was abandoned.'),
  API_BAD_REQUEST: spec('FRICTION_ERR_API_BAD_REQUEST', false, 'An admin API request has an invalid query parameter; the message names it and what is accepted.'),
  API_UNAUTHORIZED: spec('FRICTION_ERR_API_UNAUTHORIZED', false, 'A mutating admin API call lacks the bearer token configured as admin.token, carries a wrong one (401), or comes from another host while no token is configured (403).'),
  SINK_UNAVAILABLE: spec('FRICTION_ERR_SINK_UNAVAILABLE', true, 'A sink\'s target did not take a delivery for a transient reason (network error, timeout, 408/429/5xx, no JetStream); the outbox retries it with backoff.'),
  SINK_REJECTED: spec('FRICTION_ERR_SINK_REJECTED', false, 'A sink\'s target refused a delivery for good (another 4xx, an invalid message); it goes to the dead letters at once.'),
  SINK_MODULE: spec('FRICTION_ERR_SINK_MODULE', false, 'A module sink could not be loaded: the file is missing, does not export createSink, or createSink threw.'),
  STATE_OPEN: spec('FRICTION_ERR_STATE_OPEN', false, 'The state database under state.path could not be opened or created (permissions, disk, a newer schema).'),
  TLS_CONFIG: spec('FRICTION_ERR_TLS_CONFIG', false, 'A receiver\'s tls.cert_file, tls.key_file or tls.client_ca_file could not be read or used (missing file, no PEM, key not matching the certificate).'),
  AUTH_CONFIG: spec('FRICTION_ERR_AUTH_CONFIG', false, 'A receiver\'s auth.bearer_tokens_file could not be read at start, or holds no token or a malformed line.'),
  RECEIVER_UNAUTHENTICATED: spec('FRICTION_ERR_RECEIVER_UNAUTHENTICATED', false, 'An OTLP request lacks Authorization: Bearer <token> with a token from auth.bearer_tokens_file (gRPC UNAUTHENTICATED, HTTP 401).'),
  DEMO_SIDECAR: spec('FRICTION_ERR_DEMO_SIDECAR', false, 'otel-friction demo could not start its sidecar (a given port is busy, it exited or was not ready in time), or the sidecar exited during the run or did not drain cleanly; its exit reason and last output are shown.'),
  DASHBOARD_ASSETS: spec('FRICTION_ERR_DASHBOARD_ASSETS', false, 'A file of the dashboard page (its HTML, script, style or the uPlot package) could not be read at start: an incomplete install.'),
} as const satisfies Record<string, ErrorCodeSpec>;

/** Key of {@link ErrorCodes}. */
export type ErrorCodeName = keyof typeof ErrorCodes;

/** Base class of every deliberate error; `code` is stable and documented. */
export class FrictionError extends Error {
  readonly code: string;
  readonly retryable: boolean;

  constructor(name: ErrorCodeName, message: string, options?: { cause?: unknown }) {
    super(message, options);
    const s = ErrorCodes[name];
    this.name = 'FrictionError';
    this.code = s.code;
    this.retryable = s.retryable;
  }
}

/** True when `err` is a FrictionError with the given code name. */
export function isFrictionError(err: unknown, name?: ErrorCodeName): err is FrictionError {
  return err instanceof FrictionError && (name === undefined || err.code === ErrorCodes[name].code);
}
