/**
 * Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe: JSON
 * messages, NUL-terminated, written to the browser's fd 3 and read from its fd 4), so a page can be
 * loaded at a fixed viewport, measured, queried and screenshotted from Node 20 without a driver
 * package. Used by the bench (how long a 200-case HTML report takes to open) and by
 * test/report/browser.ts (layout at 1280 px, a screenshot).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p));
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--hide-scrollbars', '--mute-audio'];

interface Pending {
  resolve: (v: any) => void;
  reject: (e: Error) => void;
}

export class Chromium {
  private next = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners: { method: string; sessionId: string | undefined; resolve: (p: any) => void }[] = [];
  private buffer = '';
  private exited: Error | null = null;

  private constructor(
    private readonly child: ChildProcess,
    private readonly profile: string,
  ) {
    const out = child.stdio[4] as Readable;
    out.setEncoding('utf8');
    out.on('data', (chunk: string) => {
      this.buffer += chunk;
      let end: number;
      while ((end = this.buffer.indexOf('\0')) >= 0) {
        const msg = JSON.parse(this.buffer.slice(0, end)) as { id?: number; method?: string; params?: unknown; sessionId?: string; result?: unknown; error?: { message: string } };
        this.buffer = this.buffer.slice(end + 1);
        if (msg.id !== undefined) {
          const p = this.pending.get(msg.id);
          this.pending.delete(msg.id);
          if (msg.error) p?.reject(new Error(msg.error.message));
          else p?.resolve(msg.result);
        } else if (msg.method) {
          const i = this.listeners.findIndex((l) => l.method === msg.method && l.sessionId === msg.sessionId);
          if (i >= 0) this.listeners.splice(i, 1)[0]!.resolve(msg.params);
        }
      }
    });
    child.on('exit', (code, signal) => {
      this.exited = new Error(`chromium exited (${code ?? signal})`);
      for (const p of this.pending.values()) p.reject(this.exited);
      this.pending.clear();
    });
  }

  /** Starts a browser with its own throwaway profile. */
  static launch(binary = CHROMIUM): Chromium {
    if (!binary) throw new Error('no Chromium on this machine (apt-get install chromium)');
    const profile = mkdtempSync(join(tmpdir(), 'gru-check-chromium-'));
    const child = spawn(binary, [...CHROMIUM_FLAGS, '--remote-debugging-pipe', `--user-data-dir=${profile}`, 'about:blank'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
    return new Chromium(child, profile);
  }

  send<T = any>(method: string, params: object = {}, sessionId?: string): Promise<T> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.next++;
    const p = new Promise<T>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    (this.child.stdio[3] as Writable).write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    return p;
  }

  /** The next event `method` (of the session), registered before the command that causes it. */
  event<T = any>(method: string, sessionId?: string): Promise<T> {
    return new Promise<T>((resolve) => this.listeners.push({ method, sessionId, resolve }));
  }

  /** A new tab with a fixed viewport (CSS px, device scale 1). */
  async page(width: number, height: number): Promise<Page> {
    const { targetId } = await this.send<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
    await this.send('Page.enable', {}, sessionId);
    await this.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false }, sessionId);
    return new Page(this, sessionId, targetId);
  }

  async close(): Promise<void> {
    if (!this.exited) {
      const gone = new Promise((r) => this.child.once('exit', r));
      await this.send('Browser.close').catch(() => undefined);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    }
    rmSync(this.profile, { recursive: true, force: true });
  }
}

export interface LoadTiming {
  /** From sending Page.navigate to the load event reaching us. */
  loadMs: number;
  /** From sending Page.navigate until two animation frames after load: laid out and painted. */
  readyMs: number;
  /** The page's own navigation timing: responseEnd, domContentLoadedEventEnd, loadEventEnd (ms from its start). */
  nav: { responseEnd: number; domContentLoaded: number; loadEventEnd: number };
  /** first-contentful-paint, ms from the navigation's start; null when the page reported none. */
  fcp: number | null;
}

export class Page {
  constructor(
    private readonly browser: Chromium,
    readonly sessionId: string,
    readonly targetId: string,
  ) {}

  /** Opens `url` and waits until it is loaded and two frames have been produced. */
  async open(url: string): Promise<LoadTiming> {
    const loaded = this.browser.event('Page.loadEventFired', this.sessionId);
    const t0 = performance.now();
    await this.browser.send('Page.navigate', { url }, this.sessionId);
    await loaded;
    const loadMs = performance.now() - t0;
    const t = await this.evaluate<{ responseEnd: number; domContentLoaded: number; loadEventEnd: number; fcp: number | null }>(`new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => {
      const n = performance.getEntriesByType('navigation')[0];
      const f = performance.getEntriesByName('first-contentful-paint')[0];
      r({ responseEnd: n.responseEnd, domContentLoaded: n.domContentLoadedEventEnd, loadEventEnd: n.loadEventEnd, fcp: f ? f.startTime : null });
    })))`);
    const readyMs = performance.now() - t0;
    return { loadMs, readyMs, nav: { responseEnd: t.responseEnd, domContentLoaded: t.domContentLoaded, loadEventEnd: t.loadEventEnd }, fcp: t.fcp };
  }

  /** The value of a JavaScript expression (awaited when a promise), returned by value. */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.browser.send<{ result: { value: T }; exceptionDetails?: { text: string; exception?: { description?: string } } }>('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, this.sessionId);
    if (r.exceptionDetails) throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value;
  }

  /** A PNG of the viewport, or of the whole page (clip to its full size) with fullPage. */
  async screenshot(fullPage = false): Promise<Buffer> {
    const params: Record<string, unknown> = { format: 'png' };
    if (fullPage) {
      const { cssContentSize: s } = await this.browser.send<{ cssContentSize: { width: number; height: number } }>('Page.getLayoutMetrics', {}, this.sessionId);
      params.captureBeyondViewport = true;
      params.clip = { x: 0, y: 0, width: s.width, height: s.height, scale: 1 };
    }
    const { data } = await this.browser.send<{ data: string }>('Page.captureScreenshot', params, this.sessionId);
    return Buffer.from(data, 'base64');
  }

  async close(): Promise<void> {
    await this.browser.send('Target.closeTarget', { targetId: this.targetId });
  }
}
