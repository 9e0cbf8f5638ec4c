/** The detectors the config switches on, built by kind (one factory per kind, as for sinks). */
import type { FrictionConfig } from '../config/index.js';
import { BurnRateDetector } from './burn-rate.js';
import type { Detector } from './detector.js';

/** Every detector the configuration enables. */
export function createDetectors(config: FrictionConfig): Detector[] {
  const W = config.aggregation.window;
  const out: Detector[] = [];
  if (config.slos.length > 0) out.push(new BurnRateDetector(config.slos, config.alerting.burn_rate_windows, W));
  return out;
}
