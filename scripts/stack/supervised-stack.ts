// The components of one stack as the supervisor runs them: each started under
// a Supervised, waited for until its probe passes, described for stack.json,
// and stopped in the reverse order of the data flow.
import type { Logger } from 'pino';
import { waitFor } from '../shared/wait.js';
import type { Paths } from './paths.js';
import { removeStack, type ComponentInfo } from './stack-file.js';
import { Supervised, type ComponentSpec } from './supervisor.js';

type Kind = ComponentInfo['kind'];

/** A component that did not become ready; its log is shown to the operator. */
export class StartError extends Error {
  constructor(
    readonly component: Supervised,
    cause: Error,
  ) {
    super(cause.message);
  }
}

export class SupervisedStack {
  private readonly components: { kind: Kind; supervised: Supervised }[] = [];
  private stopWatchdog: (() => Promise<void>) | undefined;
  stopping = false;

  constructor(
    private readonly paths: Paths,
    private readonly log: Logger,
  ) {}

  start(kind: Kind, spec: ComponentSpec): Supervised {
    if (this.stopping) throw new Error('stopping');
    const supervised = new Supervised(spec, this.log);
    this.components.push({ kind, supervised });
    supervised.start();
    return supervised;
  }

  watch(stop: () => Promise<void>): void {
    this.stopWatchdog = stop;
  }

  /** Waits for `probe` to pass; gives up early if the component exits or the stack is being stopped. */
  async ready(component: Supervised, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    await waitFor(probe, {
      what: component.name,
      timeoutMs,
      intervalMs: 250,
      abort: () => (this.stopping ? 'the stack is stopping' : component.lastExit),
    }).catch((err: Error) => {
      throw new StartError(component, err);
    });
    this.log.info({ component: component.name, pid: component.pid }, `${component.name} ready`);
  }

  first(kind: Kind): Supervised | undefined {
    return this.components.find((c) => c.kind === kind)?.supervised;
  }

  info(): ComponentInfo[] {
    return this.components.map(({ kind, supervised: { name, spec } }) => ({ name, kind, pidFile: spec.pidFile, log: spec.logFile, port: spec.port }));
  }

  /** The reverse of the data flow: no new calls first, the stores that hold state last. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.stopWatchdog?.();
    const order: Kind[][] = [['nginx'], ['api'], ['consumer', 'webhooks'], ['kafka'], ['ferretdb'], ['redis']];
    for (const kinds of order) {
      await Promise.all(this.components.filter((c) => kinds.includes(c.kind)).map((c) => c.supervised.stop()));
    }
    removeStack(this.paths);
  }
}
