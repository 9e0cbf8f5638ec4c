/**
 * Priority (0–100) for downstream ranking. Four inputs, each scaled to 0–1, weighted:
 *
 *   priority = 100 × (0.40·severity + 0.25·intensity + 0.20·blast + 0.15·business) × tierFactor
 *
 * - severity: critical 1, warning 0.6, info 0.3;
 * - intensity: how far from normal, 1 − 1/(1 + log2 m) for magnitude m ≥ 1 (burn rate, ratio
 *   to baseline, deviations): 2× → 0.5, 4× → 0.67, 16× → 0.8;
 * - blast: the affected series' share of its service's traffic (1 for service-wide findings);
 * - business: the highest weight among the signal's outcomes over the highest configured weight
 *   (0 without outcomes);
 * - tierFactor: 1 for tier-1 services, 0.9 tier 2, 0.8 tier 3 (default), 0.7, 0.6.
 *
 * Every input is reported in the signal's evidence (`priorityInputs`).
 */
import type { Severity } from '../detect/detector.js';

/** The inputs of {@link priorityOf}, as shown in evidence. */
export interface PriorityInputs {
  severity: number;
  intensity: number;
  blast: number;
  business: number;
  tierFactor: number;
}

const SEVERITY_SCORE: Record<Severity, number> = { critical: 1, warning: 0.6, info: 0.3 };

/** Computes the inputs. */
export function priorityInputs(severity: Severity, magnitude: number, share: number, outcomeWeight: number, maxWeight: number, tier: number): PriorityInputs {
  const m = Math.max(1, Number.isFinite(magnitude) ? magnitude : 1);
  return {
    severity: SEVERITY_SCORE[severity],
    intensity: round(1 - 1 / (1 + Math.log2(m))),
    blast: round(Number.isFinite(share) ? Math.min(1, Math.max(0, share)) : 1),
    business: round(maxWeight > 0 ? Math.min(1, outcomeWeight / maxWeight) : 0),
    tierFactor: round(1 - 0.1 * (Math.min(5, Math.max(1, tier)) - 1)),
  };
}

/** 0–100 from the inputs. */
export function priorityOf(i: PriorityInputs): number {
  const raw = 0.4 * i.severity + 0.25 * i.intensity + 0.2 * i.blast + 0.15 * i.business;
  return Math.max(0, Math.min(100, Math.round(100 * raw * i.tierFactor)));
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
