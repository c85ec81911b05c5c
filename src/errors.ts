// An error whose message is meant for the caller as is: it says what happened and what to do.
export class ToolError extends Error {
  override name = 'ToolError';
}

const HINTS: Record<number, string> = {
  400: 'the request was rejected as invalid; check the model name and prompt size',
  401: 'authentication failed; check ANTHROPIC_API_KEY (or the claude login in HOME) of the server',
  403: 'access denied; check the API key\'s permissions',
  404: 'not found; check the model name',
  413: 'the request is too large; shorten the prompt',
  429: 'rate limited; retry after a short wait',
  500: 'the API had an internal error; retry',
  502: 'the API gateway failed; retry',
  503: 'the API is unavailable; retry later',
  529: 'the API is overloaded; retry later or use another model/tier',
};

// The one rule for "the API could not be reached" in claude's error text.
export function isUnreachable(text: string | undefined): boolean {
  return /unable to connect|connection (refused|error)|ECONNREFUSED|ENOTFOUND|ECONNRESET|network error|fetch failed/i.test(text ?? '');
}

// The upstream status of a failed result: the API's HTTP status, null when the API was unreachable, undefined when
// the failure was not the API's (max turns, a tool, a local error).
export function upstreamStatus(apiErrorStatus: number | null | undefined, text: string | undefined): number | null | undefined {
  if (typeof apiErrorStatus === 'number') return apiErrorStatus;
  return isUnreachable(text) ? null : undefined;
}

// Turns an API failure reported by claude into one readable sentence with the fix.
export function describeApiError(status: number | null | undefined, text: string | undefined): string {
  const detail = (text ?? '').trim().slice(0, 300);
  if (status === null || status === undefined) {
    const unreachable = isUnreachable(detail);
    return unreachable
      ? `Claude API unreachable: ${detail || 'connection failed'}; check ANTHROPIC_BASE_URL and the network, then retry`
      : `Claude reported an error: ${detail || 'no details'}`;
  }
  const hint = HINTS[status] ?? 'see the message from the API';
  return `Claude API error ${status}: ${detail || 'no details'} (${hint})`;
}
