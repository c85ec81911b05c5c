import { createHmac } from 'node:crypto';
import { existsSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { makePrivate, prepareStateDir, stateSecret } from './state-dir.js';

// The per-state-dir secret that keys prompt hashes.
export const auditKey = (stateDir: string): Buffer => stateSecret(stateDir, 'audit.key');

// The audit trail: every task lifecycle event and every tool call claude made, as JSONL (0600), size-capped by
// rotation.
export class AuditLog {
  readonly path: string;
  private readonly dest: ReturnType<typeof pino.destination>;
  private readonly logger: Logger;
  private readonly key: Buffer;
  private bytes: number;

  constructor(
    stateDir: string,
    private readonly options: { maxBytes: number; keepPrompts: boolean },
  ) {
    prepareStateDir(stateDir);
    this.key = auditKey(stateDir);
    this.path = join(stateDir, 'audit.jsonl');
    makePrivate(this.path);
    this.bytes = existsSync(this.path) ? statSync(this.path).size : 0;
    this.dest = pino.destination({ dest: this.path, sync: true, mode: 0o600 });
    this.logger = pino(
      {
        base: null,
        timestamp: pino.stdTimeFunctions.isoTime,
        messageKey: 'event',
        formatters: { level: (label) => ({ level: label }) },
      },
      this.dest,
    );
  }

  // A prompt as the audit log keeps it: an HMAC keyed with this state dir's secret (equal prompts match, guesses cannot
  // be checked elsewhere), unless the operator asked for the text.
  prompt(text: string): string {
    return this.options.keepPrompts ? text : `hmac-sha256:${createHmac('sha256', this.key).update(text).digest('hex')}`;
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
