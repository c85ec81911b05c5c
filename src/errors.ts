// An error whose message is meant for the caller as is: it says what happened and what to do.
export class ToolError extends Error {
  override name = 'ToolError';
}

const HINTS: Record<number, string> = {
  400: 'the request was rejected as invalid; check the model name and prompt size',
  403: "access denied; check the API key's permissions",
  404: 'not found; check the model name',
  413: 'the request is too large; shorten the prompt',
  429: 'rate limited; retry after a short wait',
  500: 'the API had an internal error; retry',
  502: 'the API gateway failed; retry',
  503: 'the API is unavailable; retry later',
  529: 'the API is overloaded; retry later or use another model/tier',
};

const UNREACHABLE =
  /unable to connect|connection (refused|error)|ECONNREFUSED|ENOTFOUND|ECONNRESET|network error|fetch failed/i;

// The one rule for "the API could not be reached" in claude's error text.
export function isUnreachable(text: string | undefined): boolean {
  return UNREACHABLE.test(text ?? '');
}

// The upstream status of a failed result: the API's HTTP status, null when the API was unreachable, undefined when
// the failure was not the API's (max turns, a tool, a local error).
export function upstreamStatus(
  apiErrorStatus: number | null | undefined,
  text: string | undefined,
): number | null | undefined {
  if (typeof apiErrorStatus === 'number') return apiErrorStatus;
  return isUnreachable(text) ? null : undefined;
}

const AUTH_TEXT = /not logged in|please run \/login|invalid (x-)?api[- ]key|authentication_error/i;

// The one rule for "claude has no usable credentials": not logged in, or an API key the API refused.
export function isAuthFailure(status: number | null | undefined, text: string | undefined): boolean {
  return status === 401 || AUTH_TEXT.test(text ?? '');
}

// What to do when claude has no credentials: where the server looks for them; MCP clients pass no shell variables.
export function authFix(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.HOME || '(unset)';
  const key = env.ANTHROPIC_API_KEY ? 'it is set but was refused' : 'it is not set';
  return (
    `check ANTHROPIC_API_KEY in the server's environment (${key}) or the claude login under HOME=${home}: set ` +
    `ANTHROPIC_API_KEY in the environment the server runs with (MCP clients such as the Inspector pass no shell ` +
    `variables: put it in the client's "env" for this server), or run \`claude\` once as this user with HOME=${home} ` +
    'and log in; `claude-tiers doctor` checks it'
  );
}

// Turns an API failure reported by claude into one readable sentence with the fix.
export function describeApiError(status: number | null | undefined, text: string | undefined): string {
  const detail = (text ?? '').trim().slice(0, 300);
  if (isAuthFailure(status, detail)) {
    const what =
      typeof status === 'number'
        ? `Claude API error ${status}: ${detail || 'no details'} (authentication failed`
        : `${detail} (claude is not logged in`;
    return `${what}; ${authFix()})`;
  }
  if (status === null || status === undefined) {
    const unreachable = isUnreachable(detail);
    return unreachable
      ? `Claude API unreachable: ${detail || 'connection failed'}; check ANTHROPIC_BASE_URL and the network, then retry`
      : `Claude reported an error: ${detail || 'no details'}`;
  }
  const hint = HINTS[status] ?? 'see the message from the API';
  return `Claude API error ${status}: ${detail || 'no details'} (${hint})`;
}
