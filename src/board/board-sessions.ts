import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { HttpIdentity } from '../mcp/http/check-request.js';

const COOKIE = 'ct_board';
const IDLE_MS = 12 * 3_600_000;
const MAX_SESSIONS = 1000;

// A logged-in browser: whom its token stood for, and the CSRF token its page sends with every action.
export interface BoardSession {
  id: string;
  who: Omit<HttpIdentity, 'token'>;
  csrf: string;
  seenAt: number;
}

const same = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
};

// The board's sessions, in memory: the cookie holds a random id (never the token), idle sessions expire.
export class BoardSessions {
  private readonly sessions = new Map<string, BoardSession>();

  // Starts a session for a token's identity; returns it with the Set-Cookie value.
  open(who: HttpIdentity, secure: boolean): { session: BoardSession; cookie: string } {
    this.sweep();
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    const session: BoardSession = {
      id: randomBytes(32).toString('base64url'),
      who: { principal: who.principal, admin: who.admin },
      csrf: randomBytes(24).toString('base64url'),
      seenAt: Date.now(),
    };
    this.sessions.set(session.id, session);
    return { session, cookie: `${COOKIE}=${session.id}; HttpOnly; SameSite=Strict; Path=/${secure ? '; Secure' : ''}` };
  }

  // The session a request's cookie names, if it is still open.
  of(req: IncomingMessage): BoardSession | undefined {
    const id = cookieValue(req.headers.cookie, COOKIE);
    const s = id ? this.sessions.get(id) : undefined;
    if (!s) return undefined;
    if (Date.now() - s.seenAt > IDLE_MS) {
      this.sessions.delete(s.id);
      return undefined;
    }
    s.seenAt = Date.now();
    return s;
  }

  // Ends a session; the Set-Cookie value that clears the cookie.
  close(session: BoardSession): string {
    this.sessions.delete(session.id);
    return `${COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
  }

  // Whether an action carries the session's CSRF token.
  csrfOk(session: BoardSession, req: IncomingMessage): boolean {
    const given = req.headers['x-csrf-token'];
    return typeof given === 'string' && same(given, session.csrf);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, s] of this.sessions) if (now - s.seenAt > IDLE_MS) this.sessions.delete(id);
  }
}

// One cookie's value from a Cookie header.
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

// Whether a request comes from the board's own origin: its Origin names the very host it was sent to (http, or
// https behind a TLS proxy). A request without Origin is refused too: browsers send it on every POST.
export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  const host = req.headers.host;
  if (!origin || !host) return false;
  return origin === `http://${host}` || origin === `https://${host}`;
}
