// One tab of the headless browser (test/helpers/browser.ts), driven as a user
// would: it clicks at an element's place on the page with the mouse and types
// with the keyboard's text input, so the page's own handlers run as they do for
// a person. Every request the tab makes is paused before it is sent: one to a
// loopback address goes on, any other is refused and recorded, so a test can
// both keep the page offline and assert that it asked for nothing else.
import { waitFor } from '../../scripts/shared/wait.js';
import type { DevTools } from './browser.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** True for an http(s) URL on a loopback address. */
export function isLoopback(url: string): boolean {
  const parsed = new URL(url);
  return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && LOOPBACK_HOSTS.has(parsed.hostname);
}

interface Point {
  x: number;
  y: number;
}

export class BrowserPage {
  /** Every URL the tab asked for, in order. */
  readonly requested: string[] = [];
  /** The URLs refused because they were not on loopback. */
  readonly refused: string[] = [];
  /** Uncaught exceptions, console errors and the browser's own error entries (a refused load, a security policy's). */
  readonly errors: string[] = [];

  private constructor(
    private readonly devTools: DevTools,
    private readonly sessionId: string,
  ) {}

  static async open(devTools: DevTools, sessionId: string): Promise<BrowserPage> {
    const page = new BrowserPage(devTools, sessionId);
    page.listen();
    await page.send('Fetch.enable', { patterns: [{ urlPattern: '*', requestStage: 'Request' }] });
    await page.send('Page.enable');
    await page.send('Runtime.enable');
    await page.send('Log.enable');
    return page;
  }

  private send(method: string, params: object = {}): Promise<Record<string, any>> {
    return this.devTools.send(method, params, this.sessionId);
  }

  private listen(): void {
    const mine = (listener: (params: Record<string, any>) => void) => (params: Record<string, any>, sessionId: string | undefined) => {
      if (sessionId === this.sessionId) listener(params);
    };
    this.devTools.on(
      'Fetch.requestPaused',
      mine(({ requestId, request }) => {
        const url = request.url as string;
        this.requested.push(url);
        if (isLoopback(url)) return void this.send('Fetch.continueRequest', { requestId }).catch(() => undefined);
        this.refused.push(url);
        void this.send('Fetch.failRequest', { requestId, errorReason: 'BlockedByClient' }).catch(() => undefined);
      }),
    );
    this.devTools.on(
      'Runtime.exceptionThrown',
      mine(({ exceptionDetails }) => this.errors.push(`exception: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`)),
    );
    this.devTools.on(
      'Runtime.consoleAPICalled',
      mine(({ type, args }) => {
        if (type === 'error') this.errors.push(`console.error: ${(args as { value?: unknown; description?: string }[]).map((a) => a.value ?? a.description).join(' ')}`);
      }),
    );
    this.devTools.on(
      'Log.entryAdded',
      mine(({ entry }) => {
        if (entry.level === 'error') this.errors.push(`${entry.source}: ${entry.text}${entry.url ? ` (${entry.url})` : ''}`);
      }),
    );
  }

  /** Opens `url` and waits until the document and everything it loads have loaded. */
  async goto(url: string): Promise<void> {
    const { errorText } = await this.send('Page.navigate', { url });
    if (errorText) throw new Error(`${url} did not load: ${errorText}`);
    await this.waitUntil(`document.readyState === 'complete' && location.href !== 'about:blank'`, `${url} loaded`);
  }

  /** The value of a JavaScript expression evaluated in the page (awaited when it is a promise). */
  async evaluate<T>(expression: string): Promise<T> {
    const { result, exceptionDetails } = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (exceptionDetails) throw new Error(`in the page: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
    return result.value as T;
  }

  /** Resolves with the first truthy value of `expression`, polled in the page until `timeoutMs`. */
  waitUntil<T>(expression: string, what: string, timeoutMs = 30_000): Promise<NonNullable<T>> {
    return waitFor(() => this.evaluate<T>(expression), { what, timeoutMs, intervalMs: 100 });
  }

  /**
   * Clicks the first element that `selector` finds, at its centre, once it is
   * shown and is the element a click there would reach (not covered by another).
   */
  async click(selector: string): Promise<void> {
    const at = await this.waitUntil<Point>(
      `(() => {
        const element = document.querySelector(${JSON.stringify(selector)});
        if (!element) return null;
        element.scrollIntoView({ block: 'center', inline: 'center' });
        const box = element.getBoundingClientRect();
        if (box.width === 0 || box.height === 0) return null;
        const x = box.left + box.width / 2, y = box.top + box.height / 2;
        const hit = document.elementFromPoint(x, y);
        return hit && (hit === element || element.contains(hit)) ? { x, y } : null;
      })()`,
      `${selector} shown and clickable`,
    );
    const mouse = { x: at.x, y: at.y, button: 'left', clickCount: 1 };
    await this.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x: at.x, y: at.y });
    await this.send('Input.dispatchMouseEvent', { type: 'mousePressed', ...mouse });
    await this.send('Input.dispatchMouseEvent', { type: 'mouseReleased', ...mouse });
  }

  /** Replaces the text of the input or text area `selector` finds with `text`, typed in, and checks it holds it. */
  async fill(selector: string, text: string): Promise<void> {
    await this.click(selector);
    await this.evaluate(`document.querySelector(${JSON.stringify(selector)}).select()`);
    await this.send('Input.insertText', { text });
    await this.waitUntil(`document.querySelector(${JSON.stringify(selector)})?.value === ${JSON.stringify(text)}`, `${selector} holds the text typed`);
  }

  /** The trimmed text of every element `selector` finds. */
  texts(selector: string): Promise<string[]> {
    return this.evaluate(`[...document.querySelectorAll(${JSON.stringify(selector)})].map((e) => e.textContent.trim())`);
  }
}
