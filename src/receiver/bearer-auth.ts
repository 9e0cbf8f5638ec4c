/**
 * Bearer-token auth for the receivers: the accepted tokens come from a file (one per line),
 * re-read when it changes so tokens can be rotated without a restart.
 *
 * Only SHA-256 digests of the tokens are kept, and a presented token is hashed and compared
 * with every digest by `timingSafeEqual`: the time taken depends neither on how much of a
 * token matched nor on its length, so it leaks nothing about the accepted tokens. Tokens are
 * never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { type Stats, readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { Logger } from 'pino';
import { ErrorCodes, FrictionError } from '../errors.js';

/** Result of checking a request's `authorization` header. */
export type AuthVerdict = 'ok' | 'missing' | 'invalid';

/** The message of a refusal, per verdict; fixed text, so nothing of the request is echoed. */
export const AUTH_REFUSAL_MESSAGE: Record<Exclude<AuthVerdict, 'ok'>, string> = {
  missing: `a bearer token is required (authorization: Bearer <token>) [${ErrorCodes.RECEIVER_UNAUTHENTICATED.code}]`,
  invalid: `the bearer token is not accepted [${ErrorCodes.RECEIVER_UNAUTHENTICATED.code}]`,
};

/** The `WWW-Authenticate` challenge of an HTTP 401, per verdict (RFC 6750 section 3). */
export const AUTH_CHALLENGE: Record<Exclude<AuthVerdict, 'ok'>, string> = {
  missing: 'Bearer',
  invalid: 'Bearer error="invalid_token"',
};

/** Default interval between stats of the token file. */
export const DEFAULT_TOKEN_POLL_MS = 1000;

// A token file is a handful of lines; anything this large is the wrong file.
const MAX_FILE_BYTES = 1024 * 1024;
const BEARER = 'bearer ';

/**
 * Parses a token file: one token per line; blank lines and lines starting with `#` are
 * ignored, surrounding whitespace is trimmed, duplicates are kept once. Throws an Error naming
 * the line (never its content) when a line holds whitespace or characters outside visible
 * ASCII (a header could never carry it), or when the file holds no token at all.
 */
export function parseBearerTokens(text: string): string[] {
  const tokens = new Set<string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    if (!/^[\x21-\x7e]+$/.test(line)) {
      throw new Error(`line ${i + 1}: a token is one word of visible ASCII characters (comments go on their own line, starting with #)`);
    }
    tokens.add(line);
  }
  // An empty list would refuse every client; it is far more likely a mistake (a truncated or
  // wrong file) than a wish, so it is treated as a bad file.
  if (tokens.size === 0) throw new Error('no token in the file');
  return [...tokens];
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** True when `header` starts with the `Bearer ` scheme, case-insensitively, without allocating. */
function isBearer(header: string): boolean {
  if (header.length <= BEARER.length) return false;
  for (let i = 0; i < BEARER.length; i++) {
    // `| 0x20` lower-cases ASCII letters and leaves the space as it is.
    if ((header.charCodeAt(i) | 0x20) !== BEARER.charCodeAt(i)) return false;
  }
  return true;
}

/** Settings of {@link BearerAuth}. */
export interface BearerAuthOptions {
  /** The token file (`bearer_tokens_file`). */
  file: string;
  /** Config path of the receiver, for messages (`receivers.otlp.protocols.grpc`). */
  what: string;
  logger: Logger;
  /** How often the file is stat'ed for changes. */
  pollMs?: number;
}

/**
 * The accepted tokens of one receiver. `start()` reads the file (a start-up error when it is
 * missing or bad) and watches it; a later change is applied at the next poll; a later file
 * that cannot be read or parsed keeps the last good tokens and is logged once until it is
 * good again.
 */
export class BearerAuth {
  private digests: Buffer[] = [];
  private watching = false;
  private failing = false;
  private readonly pollMs: number;
  private readonly onChange = (curr: Stats): void => this.reload(curr);

  constructor(private readonly options: BearerAuthOptions) {
    this.pollMs = options.pollMs ?? DEFAULT_TOKEN_POLL_MS;
  }

  /** Number of tokens currently accepted. */
  get size(): number {
    return this.digests.length;
  }

  /** Reads the token file and starts watching it. Throws FrictionError AUTH_CONFIG. */
  start(): void {
    try {
      this.digests = this.read();
    } catch (err) {
      throw new FrictionError('AUTH_CONFIG', `${this.options.what}.auth.bearer_tokens_file: ${(err as Error).message}`, { cause: err });
    }
    // A stat poll rather than fs.watch: it also sees a Kubernetes secret's symlink swap and an
    // editor's write-and-rename, costs one stat per interval, and (not persistent) never holds
    // the process open.
    watchFile(this.options.file, { persistent: false, interval: this.pollMs }, this.onChange);
    this.watching = true;
  }

  /** Stops watching the file. Idempotent. */
  stop(): void {
    if (!this.watching) return;
    this.watching = false;
    unwatchFile(this.options.file, this.onChange);
  }

  /**
   * Checks an `authorization` header value: 'missing' without Bearer credentials (none, another
   * scheme, repeated headers), 'invalid' for a token not in the file.
   */
  check(header: string | string[] | undefined): AuthVerdict {
    if (typeof header !== 'string' || !isBearer(header)) return 'missing';
    const presented = digest(header.slice(BEARER.length).trim());
    // Every digest is compared, whatever matched earlier: the time does not depend on which.
    let match = 0;
    for (const d of this.digests) match |= timingSafeEqual(d, presented) ? 1 : 0;
    return match === 1 ? 'ok' : 'invalid';
  }

  private read(): Buffer[] {
    let text: string;
    try {
      text = readFileSync(this.options.file, 'utf8');
    } catch (err) {
      throw new Error(`cannot read ${this.options.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
    if (text.length > MAX_FILE_BYTES) throw new Error(`${this.options.file} is larger than ${MAX_FILE_BYTES} bytes; is it the token file?`);
    try {
      return parseBearerTokens(text).map(digest);
    } catch (err) {
      throw new Error(`${this.options.file}: ${(err as Error).message}`, { cause: err });
    }
  }

  private reload(curr: Stats): void {
    if (!this.watching) return;
    const { logger, what, file } = this.options;
    try {
      // watchFile reports a vanished file as all-zero stats.
      if (curr.nlink === 0 && curr.mtimeMs === 0) throw new Error(`${file} is gone`);
      this.digests = this.read();
    } catch (err) {
      if (!this.failing) logger.warn({ receiver: what, file, reason: (err as Error).message }, 'bearer token file unusable; keeping the last good tokens');
      this.failing = true;
      return;
    }
    this.failing = false;
    logger.info({ receiver: what, file, tokens: this.digests.length }, 'bearer tokens reloaded');
  }
}

/** The auth of a receiver, or undefined while it is off (no `bearer_tokens_file`). */
export function bearerAuthFrom(file: string | undefined, what: string, logger: Logger, pollMs?: number): BearerAuth | undefined {
  if (file === undefined || file === '') return undefined;
  return new BearerAuth({ file, what, logger, pollMs });
}
