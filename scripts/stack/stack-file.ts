// .run/stack.pid and .run/stack.json: how stop, reset and the tests find a running stack.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Paths } from './paths.js';
import { livePid } from './pids.js';

export interface ComponentInfo {
  name: string;
  kind: 'kafka' | 'ferretdb' | 'redis' | 'nginx' | 'api' | 'consumer' | 'webhooks';
  pidFile: string;
  log: string;
  port?: number;
}

export interface StackInfo {
  pid: number;
  url: string;
  startedAt: string;
  supervisorLog: string;
  kafkaBrokers: string[];
  mongoUri: string;
  redisUrl: string;
  components: ComponentInfo[];
}

/** The supervisor's pid, if a stack is running from this folder. */
export function runningStackPid(paths: Paths): number | undefined {
  return livePid(paths.stackPid);
}

/** Written as soon as the supervisor starts, so `npm run stop` works during startup too. */
export function writeStackPid(paths: Paths, pid: number): void {
  writeFileSync(paths.stackPid, `${pid}\n`);
}

/** Written once every component is ready. */
export function writeStack(paths: Paths, info: StackInfo): void {
  writeFileSync(paths.stackJson, `${JSON.stringify(info, null, 2)}\n`);
}

export function readStack(paths: Paths): StackInfo | undefined {
  if (!existsSync(paths.stackJson)) return undefined;
  return JSON.parse(readFileSync(paths.stackJson, 'utf8')) as StackInfo;
}

export function removeStack(paths: Paths): void {
  rmSync(paths.stackJson, { force: true });
  rmSync(paths.stackPid, { force: true });
}
