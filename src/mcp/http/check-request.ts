import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

// A refusal, answered before any MCP code sees the request.
export interface Refusal {
  status: number;
  error: string;
  headers?: Record<string, string>;
}

// What a request must match: the MCP path, a Host from the list, the bearer token.
export interface RequestRules {
  path: string;
  /** Lower-case host names (IPv6 in brackets) accepted in the Host header. */
  allowedHosts: ReadonlySet<string>;
  tokens: ReadonlyArray<HttpIdentity>;
  /** Paths besides the MCP one that take GET (the metrics), behind the same token. */
  getPaths?: ReadonlyArray<string>;
  /** Path prefixes served without a token, whose pages carry their own grant (the one-tap links). */
  publicPrefixes?: ReadonlyArray<string>;
}

// A bearer token and whom it stands for: tasks belong to the principal; an admin sees every task.
export interface HttpIdentity {
  token: string;
  principal: string;
  admin: boolean;
}

const HOST_HEADER = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:\d{1,5})?$/;

// The host name of a Host header (lower case, IPv6 in brackets), or undefined when it is not a valid one.
export function hostName(header: string | undefined): string | undefined {
  const m = header ? HOST_HEADER.exec(header) : null;
  return m ? m[1]!.toLowerCase() : undefined;
}

function tokenMatches(header: string | null | undefined, token: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '');
  const want = Buffer.from(token);
  return want.length > 0 && given.length === want.length && timingSafeEqual(given, want);
}

// Whose token an Authorization header carries (every token is compared, in constant time each).
export function identify(
  header: string | null | undefined,
  tokens: ReadonlyArray<HttpIdentity>,
): HttpIdentity | undefined {
  let found: HttpIdentity | undefined;
  for (const t of tokens) if (tokenMatches(header, t.token)) found = t;
  return found;
}

// Checks target and Host of a raw request (what every path needs, the board's included); undefined means they pass.
export function checkTarget(req: IncomingMessage, rules: Pick<RequestRules, 'allowedHosts'>): Refusal | undefined {
  const target = req.url ?? '';
  // Only origin-form targets (/mcp?...): an absolute URL or `*` would let the target name another host.
  if (!target.startsWith('/') || target.startsWith('//'))
    return { status: 400, error: 'bad request target: send the path only, e.g. POST /mcp' };
  // The path checked here must be the path served: one that a URL parser would change (dot segments, encoded dots or
  // slashes, backslashes) is refused, so "/tap/../mcp" can never pass as a public path and be served as /mcp.
  if (!isCanonicalPath(target.split('?')[0]!))
    return { status: 400, error: 'bad request target: the path has dot segments or encoded separators' };
  const host = hostName(req.headers.host);
  if (!host) return { status: 400, error: 'bad or missing Host header: expected host[:port]' };
  if (!rules.allowedHosts.has(host))
    return {
      status: 403,
      error:
        `Host ${host} is not allowed; add it to allowedHosts in your config (for a reverse proxy) or connect ` +
        `through localhost`,
    };
  return undefined;
}

// A path that URL parsing leaves as it is: no "." or ".." segment, no percent-encoded dot, slash or backslash, no
// backslash.
function isCanonicalPath(path: string): boolean {
  if (/%2e|%2f|%5c|\\/i.test(path)) return false;
  if (path.split('/').some((seg) => seg === '.' || seg === '..')) return false;
  try {
    return new URL(path, 'http://h').pathname === path;
  } catch {
    return false;
  }
}

// Checks target, Host and token of a raw request, in that order; undefined means it may reach the MCP handler.
export function checkRequest(req: IncomingMessage, rules: RequestRules): Refusal | undefined {
  const bad = checkTarget(req, rules);
  if (bad) return bad;
  const target = req.url ?? '';
  const path = target.split('?')[0]!;
  if (rules.publicPrefixes?.some((p) => path.startsWith(p))) return undefined;
  if (path !== rules.path && !(req.method === 'GET' && rules.getPaths?.includes(path)))
    return { status: 404, error: `not found: the MCP endpoint is ${rules.path}` };
  if (!identify(req.headers.authorization, rules.tokens)) return unauthorized(req.headers.authorization);
  return undefined;
}

const WHERE_TOKEN =
  "the token is the server's httpToken, its CLAUDE_TIERS_HTTP_TOKEN, or the one it printed at start-up";

// Why a request's Authorization header was refused, in the body (clients show it) and, for a token that was given,
// in WWW-Authenticate (RFC 6750 3.1: a request without credentials gets the bare challenge).
function unauthorized(header: string | undefined): Refusal {
  const error = !header
    ? `no Authorization header: send Authorization: Bearer <token> (${WHERE_TOKEN})`
    : !header.startsWith('Bearer ')
      ? `the Authorization header does not start with Bearer and a space (${WHERE_TOKEN})`
      : `wrong bearer token: no token of this server matches (${WHERE_TOKEN})`;
  const challenge = header
    ? `Bearer error="invalid_token", error_description="${error.replace(/["\\]/g, "'")}"`
    : 'Bearer';
  return { status: 401, error, headers: { 'www-authenticate': challenge } };
}

// The body of a refusal: a JSON-RPC error (id null: the request was not read), so MCP clients show its message.
export const refusalBody = (r: Refusal): string =>
  JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: `HTTP ${r.status}: ${r.error}` }, id: null });
