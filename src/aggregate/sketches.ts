/**
 * Sketch factories by type name, the way the Collector looks up component factories: config
 * names a type, the registry builds the factory, the pipeline only sees {@link SketchFactory}.
 */
import { ddsketchFactory, DEFAULT_RELATIVE_ACCURACY } from './ddsketch.js';
import { SKETCH_TYPES, type SketchFactory, type SketchType } from './sketch.js';
import { DEFAULT_COMPRESSION, tdigestFactory } from './tdigest.js';

/** Parameters for {@link createSketchFactory}; each type reads its own and ignores the rest. */
export interface SketchOptions {
  /** t-digest compression (δ). Default {@link DEFAULT_COMPRESSION}. */
  compression?: number;
  /** DDSketch relative accuracy (α). Default {@link DEFAULT_RELATIVE_ACCURACY}. */
  relativeAccuracy?: number;
}

const REGISTRY: { readonly [T in SketchType]: (options: SketchOptions) => SketchFactory } = {
  tdigest: (o) => tdigestFactory(o.compression ?? DEFAULT_COMPRESSION),
  ddsketch: (o) => ddsketchFactory(o.relativeAccuracy ?? DEFAULT_RELATIVE_ACCURACY),
};

/**
 * The factory for sketches of `type`. Throws a TypeError for an unknown type and a RangeError
 * for parameters the sketch cannot use, so a bad config fails at startup, not on the first span.
 */
export function createSketchFactory(type: SketchType, options: SketchOptions = {}): SketchFactory {
  if (!(SKETCH_TYPES as readonly string[]).includes(type)) {
    throw new TypeError(`unknown sketch type "${String(type)}" (known: ${SKETCH_TYPES.join(', ')})`);
  }
  return REGISTRY[type](options);
}
