// The process listening on a TCP port of this machine, from /proc: the socket
// inodes in LISTEN state on that port (/proc/net/tcp and tcp6), then the
// process holding one of them among its file descriptors. How a phase finds
// the database's process to read its CPU when no stack of this folder started it.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const LISTEN = '0A';

/** Inodes of the sockets listening on `port` in the text of /proc/net/tcp or /proc/net/tcp6. */
export function listeningInodes(text: string, port: number): string[] {
  const inodes: string[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    const local = fields[1];
    const inode = fields[9];
    if (!local || !inode || fields[3] !== LISTEN) continue;
    const portHex = local.slice(local.lastIndexOf(':') + 1);
    if (Number.parseInt(portHex, 16) === port && inode !== '0') inodes.push(inode);
  }
  return inodes;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The pid of the process listening on `port`, or undefined when none is found (or its descriptors cannot be read). */
export function listenerPid(port: number, procDir = '/proc'): number | undefined {
  const inodes = new Set([...listeningInodes(readText(`${procDir}/net/tcp`), port), ...listeningInodes(readText(`${procDir}/net/tcp6`), port)]);
  if (inodes.size === 0) return undefined;
  for (const name of readdirSync(procDir)) {
    if (!/^\d+$/.test(name)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`${procDir}/${name}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`${procDir}/${name}/fd/${fd}`);
      } catch {
        continue;
      }
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match && inodes.has(match[1] as string)) return Number(name);
    }
  }
  return undefined;
}

/** The port a mongodb:// URI names for its first host (27017 when it names none); undefined for mongodb+srv://. */
export function mongoUriPort(uri: string): number | undefined {
  const match = /^mongodb:\/\/(?:[^@/]*@)?([^,/?]+)/.exec(uri);
  if (!match) return undefined;
  const host = match[1] as string;
  const port = /:(\d+)$/.exec(host);
  return port ? Number(port[1]) : 27017;
}

/** Whether a mongodb:// URI's first host is this machine, where its process can be read. */
export function isLoopbackUri(uri: string): boolean {
  const match = /^mongodb:\/\/(?:[^@/]*@)?([^,/?]+)/.exec(uri);
  const host = (match?.[1] ?? '').replace(/:\d+$/, '');
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
