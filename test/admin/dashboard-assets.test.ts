import { readFileSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AdminServer } from '../../src/admin/admin-server.js';
import { DASHBOARD_CSP, loadDashboardAssets } from '../../src/admin/dashboard-assets.js';
import { HealthState } from '../../src/admin/health.js';
import { SelfMetrics } from '../../src/telemetry/metrics.js';

const assets = loadDashboardAssets();
let admin: AdminServer;
let base = '';

beforeAll(async () => {
  admin = new AdminServer({
    endpoint: { host: '127.0.0.1', port: 0 }, health: new HealthState(), metrics: new SelfMetrics(), logger: pino({ level: 'silent' }), token: 'secret',
    routes: { '/api/v1/overview': () => ({ status: 200, body: { ok: true } }) },
    assets,
  });
  await admin.start();
  base = `http://127.0.0.1:${admin.address?.port}`;
});
afterAll(async () => {
  await admin.shutdown(Date.now() + 1000);
});

describe('dashboard assets', () => {
  test('GET / is the page, with a same-origin-only CSP, nosniff and no token needed', async () => {
    const res = await fetch(`${base}/?fingerprint=abc`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
    expect(DASHBOARD_CSP).toContain("script-src 'self'");
    expect(DASHBOARD_CSP).not.toContain('unsafe');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(await res.text()).toContain('<h2 id="feed-heading">Friction feed</h2>');
  });

  test('every script and stylesheet the page names is served, uPlot from node_modules', async () => {
    const html = readFileSync(new URL('../../src/admin/dashboard/index.html', import.meta.url), 'utf8');
    const refs = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(refs.sort()).toEqual(['/assets/dashboard.css', '/assets/dashboard.js', '/assets/uPlot.iife.min.js', '/assets/uPlot.min.css']);
    for (const ref of refs) {
      const res = await fetch(base + ref);
      expect(res.status, ref).toBe(200);
      expect(res.headers.get('content-type'), ref).toMatch(ref.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
      expect(res.headers.get('x-content-type-options'), ref).toBe('nosniff');
      expect((await res.arrayBuffer()).byteLength, ref).toBeGreaterThan(100);
    }
    expect(assets['/assets/uPlot.iife.min.js'].body.toString('utf8')).toContain('uPlot');
    const head = await fetch(`${base}/assets/dashboard.js`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(assets['/assets/dashboard.js'].body.length);
  });

  test('the script puts data into the page as text only (no innerHTML, no inline handlers)', () => {
    const js = assets['/assets/dashboard.js'].body.toString('utf8');
    expect(js).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
    expect(assets['/'].body.toString('utf8')).not.toMatch(/<script>|\son[a-z]+=|style=/);
  });

  test('unknown paths are 404 and name the page; POST to the page is 405', async () => {
    const res = await fetch(`${base}/nope`);
    expect(res.status).toBe(404);
    expect(await res.text()).toMatch(/try .*\/, \/api\/v1\/overview/);
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(405);
  });
});
