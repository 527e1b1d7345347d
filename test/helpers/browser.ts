// Headless Chromium (Debian's package `chromium`, installed by
// `scripts/install.sh chromium`) driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe: JSON messages ended by a NUL byte on file
// descriptors 3 and 4), so the tests need no WebSocket client, no npm package
// and no debugging port. The browser may reach loopback only: every request
// for another host goes to a proxy on a loopback port where nothing listens, no
// host but loopback's resolves, and each page refuses, and records, every
// request for another host before it is sent (test/helpers/browser-page.ts).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { BrowserPage } from './browser-page.js';

/** Where Debian's package puts the browser; CHROMIUM_PATH names another one. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const COMMAND_TIMEOUT_MS = 30_000;

/** Switches that keep the browser to the page it is given: no first-run work, no calls home, no other host. */
function launchArguments(profile: string): string[] {
  return [
    '--headless',
    '--remote-debugging-pipe',
    `--user-data-dir=${profile}`,
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-default-apps',
    '--disable-extensions',
    '--disable-sync',
    '--disable-breakpad',
    '--disable-domain-reliability',
    '--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication,CertificateTransparencyComponentUpdater',
    '--metrics-recording-only',
    '--password-store=basic',
    // /dev/shm is small in containers; the browser writes its shared memory to /tmp instead.
    '--disable-dev-shm-usage',
    // Every host fails to resolve but loopback's (the rules hold for address literals too).
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE ::1, EXCLUDE localhost',
    // Anything that is not for loopback goes through a proxy on loopback's port 9
    // (discard's), where nothing is expected to listen; loopback is never proxied.
    '--proxy-server=http://127.0.0.1:9',
    '--proxy-bypass-list=127.0.0.1;localhost;[::1]',
    // Chromium will not run as root with its sandbox (CI runs as root); the page is our own.
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
    'about:blank',
  ];
}

/** Throws, naming the fix, when the browser is not installed: the tests that need it fail rather than skip. */
export function requireChromium(): string {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: the /docs browser test needs Debian's chromium (bash scripts/install.sh chromium, or set CHROMIUM_PATH)`);
  }
  const version = spawnSync(CHROMIUM_PATH, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (version.status !== 0) throw new Error(`${CHROMIUM_PATH} --version failed (${version.status ?? version.signal}): ${version.stderr}`);
  return version.stdout.trim();
}

interface Pending {
  resolve: (result: Record<string, unknown>) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

type Listener = (params: Record<string, any>, sessionId: string | undefined) => void;

/** One DevTools connection: commands answered by id, events handed to listeners by method. */
export class DevTools {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private buffered = '';
  private closedWith: Error | undefined;

  constructor(
    private readonly input: Writable,
    output: Readable,
  ) {
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => this.receive(chunk));
    output.on('close', () => this.fail(new Error('the browser closed its DevTools pipe')));
  }

  /** Sends `method` (to a page's session when given) and resolves with its result; rejects with the protocol's error. */
  send(method: string, params: object = {}, sessionId?: string): Promise<Record<string, any>> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`DevTools ${method}: no answer in ${COMMAND_TIMEOUT_MS} ms`));
      }, COMMAND_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.input.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  }

  on(method: string, listener: Listener): () => void {
    const set = this.listeners.get(method) ?? new Set();
    set.add(listener);
    this.listeners.set(method, set);
    return () => set.delete(listener);
  }

  fail(error: Error): void {
    this.closedWith ??= error;
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(error);
      this.pending.delete(id);
    }
  }

  private receive(chunk: string): void {
    this.buffered += chunk;
    let end: number;
    while ((end = this.buffered.indexOf('\0')) >= 0) {
      const message = JSON.parse(this.buffered.slice(0, end)) as { id?: number; method?: string; params?: object; result?: object; error?: { message: string }; sessionId?: string };
      this.buffered = this.buffered.slice(end + 1);
      if (message.id !== undefined) this.answer(message.id, message.result, message.error);
      else if (message.method) for (const listener of this.listeners.get(message.method) ?? []) listener(message.params ?? {}, message.sessionId);
    }
  }

  private answer(id: number, result: object | undefined, error: { message: string } | undefined): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.pending.delete(id);
    if (error) pending.reject(new Error(`DevTools: ${error.message}`));
    else pending.resolve((result ?? {}) as Record<string, unknown>);
  }
}

/** A headless Chromium of its own profile; close() ends it, by its pid, and removes the profile. */
export class Browser {
  private stderr = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly devTools: DevTools,
    private readonly profile: string,
    readonly version: string,
  ) {
    child.stderr?.setEncoding('utf8');
    // The last few kilobytes, to tell why it exited.
    child.stderr?.on('data', (text: string) => (this.stderr = (this.stderr + text).slice(-4000)));
    child.once('exit', (code, signal) => devTools.fail(new Error(`chromium exited (${code ?? signal}): ${this.stderr.trim().slice(-1000)}`)));
  }

  static async launch(): Promise<Browser> {
    const version = requireChromium();
    const profile = mkdtempSync(join(tmpdir(), 'teller-chromium-'));
    const child = spawn(CHROMIUM_PATH, launchArguments(profile), { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    const devTools = new DevTools(child.stdio[3] as Writable, child.stdio[4] as Readable);
    const browser = new Browser(child, devTools, profile, version);
    try {
      await devTools.send('Browser.getVersion');
    } catch (error) {
      await browser.close();
      throw error;
    }
    return browser;
  }

  /** A new tab, attached, with its requests outside loopback refused. */
  async newPage(): Promise<BrowserPage> {
    const { targetId } = await this.devTools.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.devTools.send('Target.attachToTarget', { targetId, flatten: true });
    return BrowserPage.open(this.devTools, sessionId as string);
  }

  async close(): Promise<void> {
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      // Browser.close ends it cleanly (it may close the pipe before it answers);
      // one that has not exited 10 s later is ended by its pid.
      await this.devTools.send('Browser.close').catch(() => undefined);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.profile, { recursive: true, force: true });
  }
}
