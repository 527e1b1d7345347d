// The calls a client saw acknowledged ({id, accountId} per line), so the
// audit can check that each of them is in the ledger (audit --acked FILE).
import { appendFileSync, writeFileSync } from 'node:fs';

export class AckLog {
  private lines: string[] = [];
  count = 0;

  constructor(readonly file: string) {
    writeFileSync(file, '');
  }

  add(id: string, accountId: string): void {
    this.lines.push(JSON.stringify({ id, accountId }));
    this.count++;
    if (this.lines.length >= 10_000) this.flush();
  }

  flush(): void {
    if (this.lines.length === 0) return;
    appendFileSync(this.file, `${this.lines.join('\n')}\n`);
    this.lines = [];
  }
}
