import pino from 'pino';
import { describe, expect, test } from 'vitest';
import { defaultConfig, parseConfig } from '../../src/config/index.js';
import type { Detector, Finding } from '../../src/detect/detector.js';
import type { ClosedMetricWindow } from '../../src/aggregate/metric-aggregator.js';
import { DetectionStage } from '../../src/signals/detection-stage.js';
import { createRedactor, hashValue } from '../../src/signals/privacy.js';
import type { SignalTransition } from '../../src/signals/signal.js';
import { Synthesizer } from '../../src/signals/synthesizer.js';

const finding = (userId: string): Finding => ({
  kind: 'metric_threshold', severity: 'warning', service: 'checkout', operation: '', slo: '', metric: 'cart.value', outcomes: [], magnitude: 2,
  evidence: {
    rule: 'big-carts', value: 120,
    attributes: { 'user.id': userId, 'user.email': `${userId}@example.com`, region: 'eu' },
    series: `server {"user.id":"${userId}","http.route":"/cart"}`,
    nested: [{ 'user.email': 'x@example.com', ok: 1 }],
  },
  exemplars: [{ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), durationMs: 3, error: false }],
});

const privacy = parseConfig('privacy: { drop_attributes: [user.email], hash_attributes: [user.id], salt: pepper }\n', { source: 't', env: {} }).privacy;

describe('privacy', () => {
  test('drops and hashes attribute values anywhere in the evidence, including span dimensions', () => {
    const redact = createRedactor(privacy);
    expect(redact).toBeDefined();
    const out = redact?.(finding('u-42')) as Finding;
    const text = JSON.stringify(out);
    expect(text).not.toContain('u-42');
    expect(text).not.toContain('example.com');
    const h = hashValue('pepper', 'u-42');
    expect(h).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(out.evidence.attributes).toEqual({ 'user.id': h, region: 'eu' });
    expect(out.evidence.series).toBe(`server {"user.id":"${h}","http.route":"/cart"}`);
    expect(out.evidence.nested).toEqual([{ ok: 1 }]);
    expect(out.evidence.value).toBe(120);
    // The salt matters, and the detector's own object is untouched.
    expect(hashValue('other', 'u-42')).not.toBe(h);
    expect(finding('u-42').evidence.attributes).toMatchObject({ 'user.email': 'u-42@example.com' });
    expect(createRedactor(defaultConfig().privacy)).toBeUndefined();
  });

  test('signals built from redacted findings never carry the raw values; equal users still make one signal', () => {
    let users = ['u-1', 'u-2'];
    const detector: Detector = { kind: 'metric_threshold', onMetricWindows: () => users.map(finding) };
    const c = defaultConfig();
    const out: SignalTransition[] = [];
    const stage = new DetectionStage([detector], new Synthesizer({ signals: c.signals, outcomes: {}, services: {}, windowMs: 10_000 }), { append: (t) => void out.push(...t) }, pino({ level: 'silent' }), createRedactor(privacy));
    const window = { end: Date.parse('2026-11-25T00:00:10Z') } as unknown as ClosedMetricWindow;
    stage.onMetricWindows([window]);
    users = ['u-1', 'u-2', 'u-1'];
    stage.onMetricWindows([{ ...window, end: window.end + 10_000 }]);
    const text = JSON.stringify(out);
    expect(text).not.toMatch(/u-1|u-2|example\.com/);
    // Two users, two fingerprints (hashes differ); the repeat of u-1 is the same signal.
    expect(out.filter((t) => t.transition === 'firing')).toHaveLength(2);
    expect(new Set(out.map((t) => t.signal.fingerprint)).size).toBe(2);
  });
});
