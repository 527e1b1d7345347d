// ApacheBench, for the no-keep-alive ceiling as ab itself measures it (a
// cross-check of the autocannon figure, whose client pays more per
// connection). ab sends the same body every time, which the ceiling's bare
// route does not mind.
import { writeFileSync } from 'node:fs';
import { execa } from 'execa';

export interface AbFigures {
  rps: number;
  complete: number;
  failed: number;
  non2xx: number;
  p50_ms: number | null;
  p90_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
}

/** Reads the figures out of ab's report. */
export function parseAbOutput(text: string): AbFigures {
  const num = (re: RegExp) => {
    const m = re.exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const pct = (p: number) => num(new RegExp(`^\\s*${p}%\\s+(\\d+)`, 'm')) ?? null;
  const rps = num(/^Requests per second:\s+([\d.]+)/m);
  if (rps === undefined) throw new Error(`not an ab report: ${text.slice(0, 200)}`);
  return {
    rps,
    complete: num(/^Complete requests:\s+(\d+)/m) ?? 0,
    failed: num(/^Failed requests:\s+(\d+)/m) ?? 0,
    non2xx: num(/^Non-2xx responses:\s+(\d+)/m) ?? 0,
    p50_ms: pct(50),
    p90_ms: pct(90),
    p99_ms: pct(99),
    max_ms: pct(100),
  };
}

/** `ab -t seconds -c concurrency -p body -T application/json url`, without keep-alive. */
export async function runAb(url: string, body: object, bodyFile: string, concurrency: number, seconds: number): Promise<AbFigures> {
  writeFileSync(bodyFile, JSON.stringify(body));
  // -t alone caps the calls at 50,000; -n after it lifts the cap so the time limit decides.
  const args = ['-q', '-t', String(seconds), '-n', '10000000', '-c', String(concurrency), '-p', bodyFile, '-T', 'application/json', url];
  const res = await execa('ab', args, { reject: false, timeout: (seconds + 60) * 1000, stdin: 'ignore' });
  if (res.exitCode !== 0) throw new Error(`ab exited with ${res.exitCode}: ${res.stderr || res.stdout}`.slice(0, 500));
  return parseAbOutput(res.stdout);
}
