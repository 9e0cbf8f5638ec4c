/**
 * A user's own sink, loaded from a file: the module exports `createSink(options, context)`
 * returning an object with `deliver(batch)` (and optionally `start`, `close`, `maxBatch`).
 * It gets the same outbox guarantees as the built-in sinks: ordered, retried, dead-lettered.
 * See examples/sinks/ for a complete one.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SinkConfigOf } from '../config/index.js';
import { FrictionError } from '../errors.js';
import type { Delivery, SignalSink, SinkContext } from './sink.js';

/** What a sink module's `createSink` returns. */
export interface ModuleSinkInstance {
  deliver(batch: readonly Delivery[]): Promise<void>;
  start?(): Promise<void>;
  close?(): Promise<void>;
  /** Defaults to 100. */
  maxBatch?: number;
}

/** The export a sink module must provide. */
export type CreateModuleSink = (options: Record<string, unknown>, context: SinkContext) => ModuleSinkInstance | Promise<ModuleSinkInstance>;

/** Loads the module and builds its sink; failures are FRICTION_ERR_SINK_MODULE with the path. */
export async function loadModuleSink(config: SinkConfigOf<'module'>, context: SinkContext): Promise<SignalSink> {
  const file = path.resolve(config.path);
  const fail = (why: string, cause?: unknown) => new FrictionError('SINK_MODULE', `${context.name} (${file}): ${why}`, { cause });
  let mod: { createSink?: unknown; default?: { createSink?: unknown } };
  try {
    mod = (await import(pathToFileURL(file).href)) as typeof mod;
  } catch (err) {
    throw fail(`cannot load the module: ${(err as Error).message}`, err);
  }
  const create = mod.createSink ?? mod.default?.createSink;
  if (typeof create !== 'function') throw fail('the module does not export a createSink(options, context) function');
  let instance: ModuleSinkInstance;
  try {
    instance = await (create as CreateModuleSink)(config.options, context);
  } catch (err) {
    throw fail(`createSink threw: ${(err as Error).message}`, err);
  }
  if (instance === null || typeof instance !== 'object' || typeof instance.deliver !== 'function') throw fail('createSink must return an object with a deliver(batch) method');
  const maxBatch = instance.maxBatch ?? 100;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw fail(`maxBatch must be a positive integer, got ${String(maxBatch)}`);
  let closed: Promise<void> | undefined;
  return {
    name: context.name,
    maxBatch,
    start: instance.start ? () => (instance.start as () => Promise<void>).call(instance) : undefined,
    deliver: (batch) => instance.deliver(batch),
    close: () => (closed ??= Promise.resolve(instance.close?.())),
  };
}
