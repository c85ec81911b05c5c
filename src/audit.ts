import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, linkSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { makePrivate, prepareStateDir } from './state-dir.js';

const KEY_BYTES = 32;

// The per-state-dir secret that keys prompt hashes: made once (0600, published atomically with link), then read.
export function auditKey(stateDir: string): Buffer {
  const path = join(stateDir, 'audit.key');
  const read = () => {
    const key = readFileSync(path);
    if (key.length < KEY_BYTES) throw new Error(`${path} is shorter than ${KEY_BYTES} bytes; delete it to have a new key made (earlier prompt hashes will no longer match)`);
    return key;
  };
  if (existsSync(path)) return read();
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, randomBytes(KEY_BYTES), { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  return read();
}

// The audit trail: every task lifecycle event and every tool call claude made, as JSONL (0600), size-capped by rotation.
export class AuditLog {
  readonly path: string;
  private readonly dest: ReturnType<typeof pino.destination>;
  private readonly logger: Logger;
  private readonly key: Buffer;
  private bytes: number;

  constructor(stateDir: string, private readonly options: { maxBytes: number; keepPrompts: boolean }) {
    prepareStateDir(stateDir);
    this.key = auditKey(stateDir);
    this.path = join(stateDir, 'audit.jsonl');
    makePrivate(this.path);
    this.bytes = existsSync(this.path) ? statSync(this.path).size : 0;
    this.dest = pino.destination({ dest: this.path, sync: true, mode: 0o600 });
    this.logger = pino({ base: null, timestamp: pino.stdTimeFunctions.isoTime, messageKey: 'event', formatters: { level: (label) => ({ level: label }) } }, this.dest);
  }

  // A prompt as the audit log keeps it: an HMAC keyed with this state dir's secret (equal prompts match, guesses cannot be checked elsewhere), unless the operator asked for the text.
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
