import { createHash } from 'node:crypto';
import { existsSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';

// The audit trail: every task lifecycle event and every tool call claude made, as JSONL, size-capped by rotation.
export class AuditLog {
  readonly path: string;
  private readonly dest: ReturnType<typeof pino.destination>;
  private readonly logger: Logger;
  private bytes: number;

  constructor(stateDir: string, private readonly options: { maxBytes: number; keepPrompts: boolean }) {
    this.path = join(stateDir, 'audit.jsonl');
    this.bytes = existsSync(this.path) ? statSync(this.path).size : 0;
    this.dest = pino.destination({ dest: this.path, sync: true, mkdir: true });
    this.logger = pino({ base: null, timestamp: pino.stdTimeFunctions.isoTime, messageKey: 'event', formatters: { level: (label) => ({ level: label }) } }, this.dest);
  }

  // A prompt as the audit log keeps it: a hash unless the operator asked for the text.
  prompt(text: string): string {
    return this.options.keepPrompts ? text : `sha256:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
  }

  write(event: string, fields: Record<string, unknown>): void {
    try {
      this.logger.info(fields, event);
      this.bytes += 120 + JSON.stringify(fields).length;
      if (this.bytes > this.options.maxBytes) this.rotate();
    } catch {
      /* the audit log must never break a task */
    }
  }

  private rotate(): void {
    try {
      renameSync(this.path, `${this.path}.1`);
      this.dest.reopen();
      this.bytes = 0;
    } catch {
      /* keep writing to the current file */
    }
  }
}
