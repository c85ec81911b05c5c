import { createHmac, timingSafeEqual } from 'node:crypto';

// A decision a one-tap link makes: allow or deny one permission request of one task.
export interface TapGrant {
  taskId: string;
  requestId: string;
  decision: 'allow' | 'deny';
  /** Epoch ms: the request's own deadline; the link dies with it. */
  expiresAt: number;
}

// The path one-tap links live under (served without a login: the link is the only grant).
export const TAP_PATH = '/tap/';

const PART = /^[A-Za-z0-9_-]{1,80}$/;

const mac = (key: Buffer, g: TapGrant): string =>
  createHmac('sha256', key)
    .update(`one-tap|${g.taskId}|${g.requestId}|${g.decision}|${g.expiresAt}`)
    .digest('base64url');

// The token of a link: the grant in clear, then its HMAC under the state dir's links key (never the webhook secret,
// which the receiver knows).
export function signTap(key: Buffer, g: TapGrant): string {
  return [g.taskId, g.requestId, g.decision, g.expiresAt.toString(36), mac(key, g)].join('.');
}

// The grant a token carries when its signature holds and it has not expired; else why not, in words for the page.
export function verifyTap(key: Buffer, token: string, now = Date.now()): { grant: TapGrant } | { refused: string } {
  const parts = token.split('.');
  if (parts.length !== 5 || !parts.every((p) => PART.test(p)))
    return { refused: 'this link is not a claude-tiers approval link' };
  const [taskId, requestId, decision, exp, sig] = parts as [string, string, string, string, string];
  if (decision !== 'allow' && decision !== 'deny') return { refused: 'this link is not a claude-tiers approval link' };
  const grant: TapGrant = { taskId, requestId, decision, expiresAt: parseInt(exp, 36) };
  const want = Buffer.from(mac(key, grant));
  const got = Buffer.from(sig);
  if (want.length !== got.length || !timingSafeEqual(want, got))
    return { refused: 'this link was not signed by this server' };
  if (!(grant.expiresAt > now)) return { refused: `this link expired at ${new Date(grant.expiresAt).toISOString()}` };
  return { grant };
}
