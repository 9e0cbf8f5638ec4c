/**
 * The dashboard's files, read once at start-up: the page, its script and style (plain files in
 * `dashboard/` beside this module: no build step, `npm run build` copies them to dist/) and
 * uPlot from node_modules, found by package resolution so it works offline and from the
 * installed package. A missing file fails the start, not the first page view.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { FrictionError } from '../errors.js';
import type { StaticAsset } from './admin-server.js';

/**
 * Scripts and styles only from the admin server itself, no inline code, no frames: signal
 * text is data, and the page must not become a way to run it. uPlot styles through the CSSOM,
 * which `style-src 'self'` allows.
 */
export const DASHBOARD_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const PAGE_HEADERS = { 'content-security-policy': DASHBOARD_CSP, 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' };

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** The dashboard's files by the path they are served at. */
export function loadDashboardAssets(): Record<string, StaticAsset> {
  const require = createRequire(import.meta.url);
  const own = (name: string) => () => fileURLToPath(new URL(`./dashboard/${name}`, import.meta.url));
  const vendored = (name: string) => () => require.resolve(`uplot/dist/${name}`);
  const files: [string, () => string, string][] = [
    ['/', own('index.html'), 'text/html; charset=utf-8'],
    ['/assets/dashboard.js', own('dashboard.js'), JS],
    ['/assets/dashboard.css', own('dashboard.css'), CSS],
    ['/assets/uPlot.iife.min.js', vendored('uPlot.iife.min.js'), JS],
    ['/assets/uPlot.min.css', vendored('uPlot.min.css'), CSS],
  ];
  const assets: Record<string, StaticAsset> = {};
  for (const [path, locate, type] of files) {
    let body: Buffer;
    try {
      body = readFileSync(locate());
    } catch (err) {
      throw new FrictionError('DASHBOARD_ASSETS', `the dashboard's ${path} cannot be read: ${(err as Error).message} (admin.dashboard.enabled: false runs without the page)`, { cause: err });
    }
    assets[path] = { type, body, headers: path === '/' ? PAGE_HEADERS : undefined };
  }
  return assets;
}
