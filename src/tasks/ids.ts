import { randomBytes } from 'node:crypto';

// Task ids sort by creation time (base36 millis, fixed width) and carry 96 random bits: an id is all a client needs to
// read or cancel a task.
export function newTaskId(now = Date.now()): string {
  return `t_${now.toString(36).padStart(9, '0')}${randomBytes(12).toString('base64url')}`;
}
