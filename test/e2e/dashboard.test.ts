/**
 * The dashboard in a real browser: Debian's Chromium (installed on first use) driven by
 * playwright-core loads GET / from the real sidecar process while a scripted incident fires
 * (spans from the official OpenTelemetry exporter, an error burst that burns an SLO and spikes
 * errors). It checks the feed against the API, that the plots drew their data, keyboard access,
 * the page at 1280 px and on a phone, the resolution, and that the CSP blocked nothing.
 * Screenshots go to test-results/.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDebianBinary } from '../support/debian.js';
import { type SidecarProcess, startSidecarProcess } from '../support/sidecar-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SHOTS = path.join(ROOT, 'test-results');
const dir = mkdtempSync(path.join(os.tmpdir(), 'friction-dashboard-'));
const TRACE_URL = 'http://traces.example.test/trace/{trace_id}';
// The rate plot's line colour in dashboard.js: its pixels on the canvas mean the data was drawn.
const RATE_RGB = [0x2f, 0x6f, 0xdb];

// The callbacks given to page.evaluate run in the page. The test project compiles without
// lib "dom" (its fetch and Blob types clash with Node's), so they see the page through this view.
interface PageElement {
  className: string;
  dataset: Record<string, string | undefined>;
  closest(selector: string): PageElement | null;
  querySelector(selector: string): PageElement | null;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { width: number };
}
/** The page's window.getSelection (declared only; it runs inside page.evaluate). */
declare function getSelection(): { selectAllChildren(node: PageElement): void; toString(): string } | null;
interface PageCanvas extends PageElement {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}
declare const document: {
  activeElement: PageElement | null;
  body: PageElement;
  documentElement: { scrollWidth: number };
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
};
declare function getComputedStyle(element: PageElement): { outlineStyle: string };

let sidecar: SidecarProcess;
let browser: Browser;
let admin = '';
const providers: BasicTracerProvider[] = [];

interface ApiSignal {
  fingerprint: string;
  kind: string;
  title: string;
  service: string;
}

beforeAll(async () => {
  // CI starts from a clean machine: installing Chromium from Debian takes minutes there.
  const executablePath = ensureDebianBinary('chromium', '/usr/bin/chromium');
  mkdirSync(SHOTS, { recursive: true });
  sidecar = await startSidecarProcess({
    yaml: (p) => `receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:${p.grpc}" }
      http: { endpoint: "127.0.0.1:${p.http}" }
admin:
  endpoint: "127.0.0.1:${p.admin}"
  dashboard: { trace_url: "${TRACE_URL}" }
log: { level: warn }
state: { path: "${path.join(dir, 'state')}" }
aggregation: { window: 1s }
outcomes: { revenue: { weight: 5 } }
services:
  checkout-ui: { outcomes: [revenue], owner: team-payments, tier: 1 }
  catalog-ui: { owner: team-catalog, tier: 2 }
slos:
  - { name: checkout-availability, service: checkout-ui, objective: 0.99, period: 1h }
alerting:
  burn_rate_windows:
    - { long: 10s, short: 2s, factor: 10, severity: critical }
detectors:
  error_spike: { baseline_windows: 3, warmup_windows: 3 }
  latency_regression: { enabled: false }
  traffic_drop: { enabled: false }
signals: { resolve_after: 2 }
`,
  });
  admin = `http://127.0.0.1:${sidecar.adminPort}`;
  browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--headless'] });
}, 900_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all(providers.map((p) => p.shutdown()));
  await sidecar?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Spans of one service at ~100/s, with lognormal-ish durations, until stopped. */
function traffic(service: string) {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `http://127.0.0.1:${sidecar.grpcPort}` }), { scheduledDelayMillis: 50, maxExportBatchSize: 256 })],
  });
  providers.push(provider);
  const tracer = provider.getTracer('e2e-dashboard');
  const state = { failing: false, stop: false };
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const done = (async () => {
    while (!state.stop) {
      const now = Date.now();
      for (let i = 0; i < 10; i++) {
        const ms = Math.exp(3 + 0.5 * (random() + random() + random() - 1.5));
        const span = tracer.startSpan('POST /checkout', { kind: SpanKind.SERVER, startTime: now - ms });
        if (state.failing) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end(now);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return { state, done };
}

async function firingSignals(): Promise<ApiSignal[]> {
  const res = await fetch(`${admin}/api/v1/signals?status=firing`);
  return ((await res.json()) as { signals: ApiSignal[] }).signals;
}

async function until<T>(what: () => Promise<T | undefined>, timeoutMs: number, label: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await what();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Pixels of the rate line drawn on a service's rate canvas, and the canvas' CSS width. */
async function ratePixels(page: Page, service: string): Promise<{ line: number; cssWidth: number }> {
  return page.evaluate(([svc, rgb]) => {
    const panel = [...document.querySelectorAll('.service')].find((p) => p.dataset.service === svc);
    const canvas = panel?.querySelector('figure[data-metric="rate"] canvas') as PageCanvas | null | undefined;
    if (!canvas) return { line: -1, cssWidth: 0 };
    const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? new Uint8ClampedArray();
    let line = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 200 && Math.abs(data[i] - rgb[0]) < 40 && Math.abs(data[i + 1] - rgb[1]) < 40 && Math.abs(data[i + 2] - rgb[2]) < 40) line++;
    }
    return { line, cssWidth: canvas.getBoundingClientRect().width };
  }, [service, RATE_RGB] as const);
}

/** Console errors and page errors, CSP violations included. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

describe('dashboard in Chromium', () => {
  it('shows the firing incident on top of the feed, plots the services, and is usable by keyboard, at 1280 px and on a phone', async () => {
    const checkout = traffic('checkout-ui');
    const catalog = traffic('catalog-ui');
    try {
      await new Promise((r) => setTimeout(r, 5000)); // healthy baseline for both services
      checkout.state.failing = true;
      const firing = await until(async () => {
        const list = await firingSignals();
        return list.some((s) => s.kind === 'error_budget_burn') && list.some((s) => s.kind === 'error_spike') ? list : undefined;
      }, 20_000, 'error_budget_burn and error_spike to fire');

      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors = watchErrors(page);
      const res = await page.goto(`${admin}/`);
      expect(res?.status()).toBe(200);
      expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
      await page.waitForSelector('#firing > li', { timeout: 15_000 });
      // The live region says what changed (the firing count), not the time of every poll.
      expect(await page.locator('#status').getAttribute('role')).toBe('status');
      expect(await page.locator('#status').textContent()).toMatch(/^\d+ firing$/);
      expect(await page.locator('#updated').textContent()).toMatch(/updated .*refreshes every 5 s/);

      // The feed holds the API's firing signals, highest priority first, each with its title
      // (titles carry live numbers, so they are matched by pattern) and severity in words.
      const items = page.locator('#firing > li');
      const shown = await items.evaluateAll((lis) => lis.map((li) => ({ fp: li.dataset.fingerprint, title: li.querySelector('h4')?.textContent, priority: Number(/priority (\d+)/.exec(li.querySelector('.meta')?.textContent ?? '')?.[1]) })));
      expect(shown.map((x) => x.fp).sort()).toEqual(firing.map((s) => s.fingerprint).sort());
      expect(shown.map((x) => x.priority)).toEqual(shown.map((x) => x.priority).sort((a, b) => b - a));
      const burn = firing.find((s) => s.kind === 'error_budget_burn') as ApiSignal;
      const spikeSignal = firing.find((s) => s.kind === 'error_spike') as ApiSignal;
      const titleOf = (fp: string) => shown.find((x) => x.fp === fp)?.title;
      expect(titleOf(burn.fingerprint)).toMatch(/^SLO checkout-availability \(checkout-ui\) is burning its error budget \d+(\.\d)?× too fast$/);
      expect(titleOf(spikeSignal.fingerprint)).toBe(spikeSignal.title);
      const top = items.first();
      expect(await top.locator('h4').textContent()).toMatch(/^(SLO checkout-availability \(checkout-ui\) is burning|checkout-ui POST \/checkout: errors jumped)/);
      const topFingerprint = shown[0].fp;
      expect(await top.locator('.badge').textContent()).toMatch(/Critical|Warning|Info/);
      expect(await top.locator('.meta').textContent()).toMatch(/priority \d+ · firing for \d+s/);
      const burnItem = page.locator(`#firing > li[data-fingerprint="${burn.fingerprint}"]`);
      expect(await burnItem.locator('.owner').textContent()).toBe('owner team-payments');
      expect(await burnItem.locator('.tags li').allTextContents()).toEqual(['revenue']);
      // The error spike carries exemplars: links built from admin.dashboard.trace_url.
      const spike = page.locator('#firing > li').filter({ has: page.locator('.exemplars') }).first();
      const href = await spike.locator('.exemplars a').first().getAttribute('href');
      expect(href).toMatch(/^http:\/\/traces\.example\.test\/trace\/[0-9a-f]{32}$/);

      // Plots: checkout-ui's panel ranks first (it has the firing signals), its plots hold data
      // and the rate line is drawn; the quiet service has its plots too.
      await page.waitForFunction(() => Number(document.querySelector('.service figure[data-metric="rate"]')?.getAttribute('data-points')) >= 3, undefined, { timeout: 15_000 });
      expect(await page.locator('.service').first().getAttribute('data-service')).toBe('checkout-ui');
      for (const svc of ['checkout-ui', 'catalog-ui']) {
        const panel = page.locator(`.service[data-service="${svc}"]`);
        expect(await panel.locator('canvas').count(), svc).toBe(3);
        for (const metric of ['rate', 'errors', 'latency']) expect(Number(await panel.locator(`figure[data-metric="${metric}"]`).getAttribute('data-points')), `${svc} ${metric}`).toBeGreaterThanOrEqual(3);
        expect((await ratePixels(page, svc)).line, svc).toBeGreaterThan(20);
        expect(await panel.locator('.chart').first().getAttribute('aria-label')).toMatch(/^Requests per second for .* windows: req\/s latest \d/);
      }
      const slo = page.locator('.service[data-service="checkout-ui"] .slo');
      expect(await slo.locator('h4').textContent()).toBe('SLO checkout-availability');
      expect(await slo.locator('.budget').textContent()).toMatch(/^Error budget remaining: \d+(\.\d)?%/);
      expect(await slo.locator('tbody tr').first().textContent()).toMatch(/10s \/ 2s.*burning \(critical\)/);
      expect(await page.locator('.service[data-service="catalog-ui"] .meta').textContent()).toContain('owner team-catalog');
      await page.screenshot({ path: path.join(SHOTS, 'dashboard-1280.png'), fullPage: true });

      // Keyboard: the skip link, then the first feed item's title, with a visible focus ring;
      // Enter on it marks the item and puts its fingerprint in the address.
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.className)).toBe('skip');
      await page.keyboard.press('Enter');
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => {
        const a = document.activeElement as PageElement;
        return { cls: a.className, item: a.closest('li')?.dataset.fingerprint, first: a.closest('#firing > li') === document.querySelector('#firing > li'), outline: getComputedStyle(a).outlineStyle };
      });
      expect(focused).toEqual({ cls: 'title-link', item: topFingerprint, first: true, outline: 'solid' });
      await page.keyboard.press('Enter');
      expect(new URL(page.url()).searchParams.get('fingerprint')).toBe(topFingerprint);
      expect(await page.locator(`#firing > li[data-fingerprint="${topFingerprint}"]`).getAttribute('class')).toContain('highlight');
      // A poll re-renders the feed: focus stays on the same item.
      const updated = await page.evaluate(() => document.body.dataset.updated);
      await page.waitForFunction((u) => document.body.dataset.updated !== u, updated, { timeout: 10_000 });
      expect(await page.evaluate(() => (document.activeElement as PageElement).closest('li')?.dataset.fingerprint)).toBe(topFingerprint);
      // Polls patch items in place: the same element, and a selection in a part whose text did
      // not change (the outcome tags) survives the next poll.
      await page.evaluate((fp) => {
        const li = document.querySelector(`#firing > li[data-fingerprint="${fp}"]`) as PageElement & { keep?: boolean };
        li.keep = true;
        const tags = li.querySelector('.tags') as PageElement;
        getSelection()?.selectAllChildren(tags);
      }, topFingerprint);
      const selected = await page.evaluate(() => getSelection()?.toString());
      expect(selected).toContain('revenue');
      const beforePoll = await page.evaluate(() => document.body.dataset.updated);
      await page.waitForFunction((u) => document.body.dataset.updated !== u, beforePoll, { timeout: 10_000 });
      expect(await page.evaluate((fp) => (document.querySelector(`#firing > li[data-fingerprint="${fp}"]`) as PageElement & { keep?: boolean }).keep, topFingerprint)).toBe(true);
      expect(await page.evaluate(() => getSelection()?.toString())).toBe(selected);

      // A phone: one column, no horizontal scrolling, plots as wide as the screen allows.
      const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
      const phoneErrors = watchErrors(phone);
      await phone.goto(`${admin}/?fingerprint=${burn.fingerprint}`);
      await phone.waitForSelector('.service canvas', { timeout: 15_000 });
      await phone.waitForSelector('#firing > li.highlight', { timeout: 15_000 });
      expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      const phoneRate = await ratePixels(phone, 'checkout-ui');
      expect(phoneRate.line).toBeGreaterThan(20);
      expect(phoneRate.cssWidth).toBeGreaterThan(250);
      expect(phoneRate.cssWidth).toBeLessThanOrEqual(390);
      // Opened from an alert's link (?fingerprint=…): that signal is marked and focused.
      expect(await phone.evaluate(() => (document.activeElement as PageElement).closest('li')?.dataset.fingerprint)).toBe(burn.fingerprint);
      await phone.screenshot({ path: path.join(SHOTS, 'dashboard-phone.png'), fullPage: true });

      // The errors stop: the burn resolves and moves below, with its time to resolve.
      checkout.state.failing = false;
      const resolved = page.locator(`#resolved > li[data-fingerprint="${burn.fingerprint}"]`);
      await resolved.waitFor({ timeout: 30_000 });
      expect(await resolved.locator('.age').textContent()).toMatch(/^resolved \d+s ago, after \d+s$/);
      expect(await page.locator(`#firing > li[data-fingerprint="${burn.fingerprint}"]`).count()).toBe(0);
      await page.screenshot({ path: path.join(SHOTS, 'dashboard-resolved.png'), fullPage: true });

      expect(errors).toEqual([]);
      expect(phoneErrors).toEqual([]);
    } finally {
      checkout.state.stop = true;
      catalog.state.stop = true;
      await Promise.all([checkout.done, catalog.done]);
    }
  }, 120_000);
});
