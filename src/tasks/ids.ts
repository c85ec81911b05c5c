import { randomBytes } from 'node:crypto';

// Task ids sort by creation time (base36 millis, fixed width) and carry 48 random bits.
export function newTaskId(now = Date.now()): string {
  return `t_${now.toString(36).padStart(9, '0')}${randomBytes(6).toString('base64url')}`;
}
