/**
 * What the demo shows in the terminal. On a TTY a compact screen redrawn in place (progress,
 * incidents, signals); elsewhere (pipes, CI, tests) plain lines, one per event, that a script
 * can read. Both take the same calls from the orchestrator.
 */
import type { Incident } from './incidents.js';
import type { SignalEvent, SignalSummary } from './signal-feed.js';

/** Where the run stands, for the progress line. */
export interface DemoStatus {
  /** Wall ms since the fleet started, and the run's wall length. */
  readonly elapsedMs: number;
  readonly durationMs: number;
  readonly phase: string;
  /** Incidents in effect now, and the next one to come. */
  readonly active: readonly Incident[];
  readonly next: Incident | undefined;
  readonly spansPerSecond: number;
  readonly spansSent: number;
}

/** The run's setup, shown once at the top. */
export interface DemoHeader {
  readonly seed: number;
  readonly speed: number;
  readonly durationMs: number;
  readonly services: readonly string[];
  readonly otlpEndpoint: string;
  readonly adminUrl: string;
  readonly sidecarPid: number;
  /** Notes such as "port 4317 busy, using 41234". */
  readonly notes: readonly string[];
}

/** The terminal side of the demo. */
export interface DemoView {
  header(h: DemoHeader): void;
  status(s: DemoStatus): void;
  /** An incident began (`started`) or ended; `atMs` is wall ms since the start. */
  incident(change: 'started' | 'ended', incident: Incident, atMs: number, speed: number): void;
  signal(event: SignalEvent, atMs: number): void;
  /** A one-off line (stopping, warnings). */
  note(text: string): void;
  /** Final screen: the summary lines. */
  close(summary: readonly string[]): void;
  /** Gives the terminal back (cursor shown) on any way out; idempotent and synchronous. */
  dispose(): void;
}

/** `m:ss` of a wall duration. */
export function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** One line of a signal event, as the plain view prints it. */
export function signalLine(e: SignalEvent): string {
  const s = e.signal;
  const what = { fired: 'FIRING', escalated: 'ESCALATED', resolved: 'RESOLVED' }[e.type];
  return `${what.padEnd(9)} ${s.severity.padEnd(8)} ${s.kind.padEnd(18)} ${s.service.padEnd(9)} ${s.title}`;
}

/**
 * The end-of-run summary: signals fired per kind, with the services they named.
 * `spans` is what the fleet sent, `elapsedMs` how long it ran.
 */
export function summaryLines(signals: readonly SignalSummary[], spans: number, elapsedMs: number): string[] {
  const resolved = signals.filter((s) => s.status === 'resolved').length;
  const lines = [`summary: ${signals.length} signal(s) fired, ${resolved} resolved, ${signals.length - resolved} still firing; ${spans.toLocaleString('en-US')} spans sent in ${clock(elapsedMs)}`];
  const byKind = new Map<string, Map<string, number>>();
  for (const s of signals) {
    const services = byKind.get(s.kind) ?? new Map<string, number>();
    services.set(s.service, (services.get(s.service) ?? 0) + 1);
    byKind.set(s.kind, services);
  }
  for (const [kind, services] of [...byKind].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  ${kind.padEnd(18)} ${[...services].map(([service, n]) => `${service} ×${n}`).join(', ')}`);
  }
  if (signals.length === 0) lines.push('  (no signals)');
  return lines;
}

function incidentWhen(i: Incident, speed: number): string {
  return `${clock(i.startMs / speed)}–${clock(i.endMs / speed)}`;
}

function headerLines(h: DemoHeader): string[] {
  return [
    `otel-friction demo: seed ${h.seed}, speed ${h.speed}×, duration ${clock(h.durationMs)}; ${h.services.length} services (${h.services.join(', ')}) → OTLP ${h.otlpEndpoint}`,
    `sidecar pid ${h.sidecarPid}, admin ${h.adminUrl}/ (signals: ${h.adminUrl}/api/v1/signals)`,
    ...h.notes,
  ];
}

/** Plain lines, one per event, plus a progress line every `progressEveryMs`. */
export class PlainView implements DemoView {
  private lastProgress = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly write: (text: string) => void,
    private readonly progressEveryMs = 10_000,
  ) {}

  header(h: DemoHeader): void {
    for (const line of headerLines(h)) this.write(`${line}\n`);
  }

  status(s: DemoStatus): void {
    if (s.elapsedMs - this.lastProgress < this.progressEveryMs) return;
    this.lastProgress = s.elapsedMs;
    this.write(`[${clock(s.elapsedMs)}] progress ${clock(s.elapsedMs)}/${clock(s.durationMs)} ${s.phase}, ${Math.round(s.spansPerSecond)} spans/s, ${s.spansSent} spans sent\n`);
  }

  incident(change: 'started' | 'ended', i: Incident, atMs: number, speed: number): void {
    this.write(`[${clock(atMs)}] incident ${change}: ${i.kind} ${i.service} (${i.label}, ${incidentWhen(i, speed)})\n`);
  }

  signal(e: SignalEvent, atMs: number): void {
    this.write(`[${clock(atMs)}] ${signalLine(e)}\n`);
  }

  note(text: string): void {
    this.write(`${text}\n`);
  }

  close(summary: readonly string[]): void {
    for (const line of summary) this.write(`${line}\n`);
  }

  dispose(): void {
    // Plain lines change nothing in the terminal.
  }
}

// ANSI: bold, colours (each paired with a word, so meaning never rests on colour alone), and
// cursor moves to redraw the frame.
const BOLD = '\x1b[1m';
const RED = '\x1b[31m';
const GREEN = '\x1b[32m';
const YELLOW = '\x1b[33m';
const RESET = '\x1b[0m';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';
const CLEAR_SCREEN = '\x1b[H\x1b[2J';
const MAX_SIGNAL_ROWS = 10;
const PROGRESS_CELLS = 24;
// A pty without a size (script, some CI shells) reports 0 columns and rows.
const FALLBACK_COLUMNS = 100;
const FALLBACK_ROWS = 24;

/** What the live view needs of a terminal: a tty.WriteStream, or a fake in tests. */
export interface Terminal {
  readonly columns: number;
  readonly rows: number;
  write(text: string): unknown;
  on(event: 'resize', listener: () => void): unknown;
  removeListener(event: 'resize', listener: () => void): unknown;
}

/** A screen redrawn in place on a TTY. */
export class LiveView implements DemoView {
  private head: string[] = [];
  private last: DemoStatus | undefined;
  private readonly signals = new Map<string, { signal: SignalSummary; firedAt: number; resolvedAt?: number }>();
  private readonly log: string[] = [];
  private drawn = 0;
  private closing = false;
  private cursorHidden = false;
  private readonly onResize = () => this.resize();

  constructor(private readonly terminal: Terminal) {
    terminal.on('resize', this.onResize);
  }

  header(h: DemoHeader): void {
    this.head = headerLines(h);
    this.terminal.write(HIDE_CURSOR); // while redrawing; dispose() shows it again
    this.cursorHidden = true;
    this.draw();
  }

  status(s: DemoStatus): void {
    this.last = s;
    this.draw();
  }

  incident(change: 'started' | 'ended', i: Incident, atMs: number, speed: number): void {
    this.pushLog(`${clock(atMs)} incident ${change}: ${i.label} (${incidentWhen(i, speed)})`);
  }

  signal(e: SignalEvent, atMs: number): void {
    const entry = this.signals.get(e.signal.id) ?? { signal: e.signal, firedAt: atMs };
    entry.signal = e.signal;
    if (e.type === 'resolved') entry.resolvedAt = atMs;
    this.signals.set(e.signal.id, entry);
    this.draw();
  }

  note(text: string): void {
    this.pushLog(text);
  }

  close(summary: readonly string[]): void {
    this.closing = true;
    this.draw();
    this.terminal.write(`${summary.join('\n')}\n`);
    this.dispose();
  }

  /** Shows the cursor again and stops following resizes; idempotent, synchronous (exit handlers). */
  dispose(): void {
    this.closing = true;
    this.terminal.removeListener('resize', this.onResize);
    if (!this.cursorHidden) return;
    this.cursorHidden = false;
    this.terminal.write(SHOW_CURSOR);
  }

  /**
   * After a resize the old frame has been rewrapped to the new width, so the count of lines to
   * move up over is wrong: clear the screen and draw afresh.
   */
  resize(): void {
    if (this.closing || this.drawn === 0) return;
    this.terminal.write(CLEAR_SCREEN);
    this.drawn = 0;
    this.draw();
  }

  private pushLog(line: string): void {
    this.log.push(line);
    this.log.splice(0, Math.max(0, this.log.length - 4));
    this.draw();
  }

  /**
   * The frame in at most `maxLines` lines: header, progress and counts first; signal rows, then
   * the log, get what room is left. Lines beyond the screen would scroll it, and the cursor
   * could then not move up over the frame to redraw it.
   */
  private frame(maxLines: number): string[] {
    const core = [...this.head];
    const s = this.last;
    // Which core lines go first when even they do not fit: progress, the header's first line,
    // the signal count, then the rest in order.
    const keep: number[] = [];
    if (s !== undefined) {
      const done = Math.min(1, s.elapsedMs / s.durationMs);
      const cells = Math.round(done * PROGRESS_CELLS);
      keep.push(core.length);
      core.push(`[${'#'.repeat(cells)}${'.'.repeat(PROGRESS_CELLS - cells)}] ${clock(s.elapsedMs)} / ${clock(s.durationMs)}  ${BOLD}${s.phase}${RESET}  ${Math.round(s.spansPerSecond)} spans/s  ${s.spansSent.toLocaleString('en-US')} spans`);
      const active = s.active.map((i) => `${YELLOW}▶${RESET} ${i.label}`).join('  ');
      core.push(`incidents: ${active || 'none'}${s.next !== undefined ? `  (next: ${s.next.service} ${s.next.kind.replace('_', ' ')})` : ''}`);
    }
    const rows = [...this.signals.values()].sort((a, b) => Number(a.resolvedAt !== undefined) - Number(b.resolvedAt !== undefined) || b.firedAt - a.firedAt);
    const firing = rows.filter((r) => r.resolvedAt === undefined).length;
    if (this.head.length > 0) keep.push(0);
    keep.push(core.length);
    core.push(`signals: ${firing} firing, ${rows.length - firing} resolved`);
    const footer = this.closing ? [] : ['Ctrl-C to stop'];
    let room = maxLines - core.length - footer.length;
    if (room < 0) {
      for (let i = 0; i < core.length; i++) if (!keep.includes(i)) keep.push(i);
      const kept = new Set(keep.slice(0, maxLines));
      return core.filter((_, i) => kept.has(i));
    }
    // Rows beyond the room become a "… N more" line, which takes a row's place.
    const shown = rows.length <= Math.min(room, MAX_SIGNAL_ROWS) ? rows.length : Math.max(0, Math.min(room, MAX_SIGNAL_ROWS + 1) - 1);
    const table = rows.slice(0, shown).map((r) => {
      const status = r.resolvedAt === undefined ? `${RED}● FIRING  ${RESET}` : `${GREEN}○ resolved${RESET}`;
      const when = r.resolvedAt === undefined ? clock(r.firedAt) : `${clock(r.firedAt)}–${clock(r.resolvedAt)}`;
      return `  ${status} ${r.signal.severity.padEnd(8)} ${r.signal.kind.padEnd(18)} ${r.signal.service.padEnd(9)} ${when.padEnd(9)} ${r.signal.title}`;
    });
    if (shown < rows.length && room > 0) table.push(`  … ${rows.length - shown} more`);
    room -= table.length;
    // The newest log lines, as many as fit.
    const log = room > 0 ? this.log.slice(-room).map((l) => `  ${l}`) : [];
    return [...core, ...table, ...log, ...footer];
  }

  private draw(): void {
    const { columns, rows } = this.size();
    const width = Math.max(20, columns - 1);
    // One line short of the screen: the cursor rests on the line after the frame. The closing
    // frame is not redrawn over, so it may be taller and show every row.
    const maxLines = this.closing ? Number.POSITIVE_INFINITY : Math.max(1, rows - 1);
    // Lines are cut to the width so none wraps: a wrapped line would break the count of lines
    // to move up on the next redraw.
    const lines = this.frame(maxLines).map((l) => truncate(l, width));
    const up = this.drawn > 0 ? `\x1b[${this.drawn}A\r` : '';
    this.terminal.write(`${up}\x1b[J${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }

  private size(): { columns: number; rows: number } {
    return { columns: this.terminal.columns || FALLBACK_COLUMNS, rows: this.terminal.rows || FALLBACK_ROWS };
  }
}

/** Cuts `line` to `width` visible characters, keeping ANSI sequences (and resetting after a cut). */
export function truncate(line: string, width: number): string {
  let visible = 0;
  let out = '';
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\x1b') {
      const end = line.indexOf('m', i);
      if (end > 0) {
        out += line.slice(i, end + 1);
        i = end;
        continue;
      }
    }
    if (visible === width) return `${out}${RESET}`;
    out += line[i];
    visible++;
  }
  return out;
}

/** The view for `stream`: live on a TTY, plain lines otherwise. */
export function createView(stream: NodeJS.WriteStream): DemoView {
  return stream.isTTY ? new LiveView(stream) : new PlainView((text) => void stream.write(text));
}
