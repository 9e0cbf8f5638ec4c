/**
 * The lifecycle every long-lived part of the sidecar follows, after the Collector's
 * component contract: `start` once; `shutdown` stops intake, finishes or flushes what is in
 * flight by the deadline, and is safe to call before `start` and more than once.
 */

/** A part of the sidecar with a start/shutdown lifecycle. */
export interface Component {
  /** Human-readable name for logs. */
  readonly name: string;
  start(): Promise<void>;
  /**
   * Stops intake and flushes. `deadline` is an absolute time (ms since the epoch) after
   * which remaining work is abandoned. Resolves true when everything in flight finished,
   * false when something was abandoned at the deadline. Idempotent; safe before start.
   */
  shutdown(deadline: number): Promise<boolean>;
}

/**
 * Wraps an async function so that every call after the first returns the first call's
 * promise: shutdown paths run exactly once however many signals or callers arrive.
 */
export function once<A extends unknown[], T>(fn: (...args: A) => Promise<T>): (...args: A) => Promise<T> {
  let result: Promise<T> | undefined;
  return (...args: A) => {
    result ??= fn(...args);
    return result;
  };
}

/** Resolves after `ms`, or at once for ms <= 0; the timer never holds the process open. */
export function sleep(ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Resolves when `p` settles or the deadline passes, whichever is first; true if `p` won. */
export async function beforeDeadline(p: Promise<unknown>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
    timer.unref();
  });
  try {
    return await Promise.race([p.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
