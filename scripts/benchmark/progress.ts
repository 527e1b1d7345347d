// The progress bar on stderr: one bar per phase step (seconds of load,
// messages produced or applied), with the step's live figure beside it.
// On a terminal it redraws one line; into a file or a pipe it prints a
// plain line every few seconds.
import cliProgress from 'cli-progress';

export class Progress {
  private bar: cliProgress.SingleBar | undefined;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  /** Starts a bar for `step`, counting up to `total` `unit`. */
  start(step: string, total: number, unit: string): void {
    this.stop();
    this.bar = new cliProgress.SingleBar(
      {
        stream: this.stream,
        format: `${step.padEnd(24)} [{bar}] {percentage}% | {value}/{total} ${unit} | {info}`,
        barsize: 24,
        hideCursor: false,
        noTTYOutput: true,
        notTTYSchedule: 5000,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(Math.max(1, Math.round(total)), 0, { info: '' });
  }

  update(value: number, info = ''): void {
    this.bar?.update(Math.round(value), { info });
  }

  /** Ends the current bar, leaving its last state on screen. */
  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }

  /** A line of its own (between bars). */
  note(line: string): void {
    const bar = this.bar;
    if (bar) bar.stop();
    this.stream.write(`${line}\n`);
    this.bar = undefined;
  }
}
