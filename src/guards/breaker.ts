import { describeApiError, ToolError, upstreamStatus } from '../errors.js';

type State = 'closed' | 'open' | 'half_open';

interface Circuit {
  state: State;
  failures: number;
  openedAt?: number;
  lastError?: string;
  probing: boolean;
}

// Statuses that mean the upstream itself is failing (auth, overload, unreachable): they count toward opening.
export const UPSTREAM_FAILURES = new Set<number | null>([401, 403, 429, 500, 502, 503, 529, null]);

// What claude's result says about the upstream: success, an upstream failure (by the one rule), or nothing.
export function verdictOf(
  result: { isError: boolean; apiErrorStatus?: number | null; text: string } | undefined,
): Verdict {
  if (!result) return { kind: 'neutral' };
  if (!result.isError) return { kind: 'success' };
  const status = upstreamStatus(result.apiErrorStatus, result.text);
  return status !== undefined && UPSTREAM_FAILURES.has(status)
    ? { kind: 'failure', error: describeApiError(status, result.text) }
    : { kind: 'neutral' };
}

// What a finished call says about the upstream: it answered, it failed (auth, overload, unreachable), or nothing.
export type Verdict = { kind: 'success' } | { kind: 'failure'; error: string } | { kind: 'neutral' };

// One admitted call: report what it found, once, in a finally ("neutral" when nothing was learned), so a probe slot
// is never held by a call that was killed, timed out, crashed or refused before it ran.
export interface BreakerTicket {
  report(verdict: Verdict): void;
}

// The last error as the breaker message quotes it: without the error's own advice in parentheses (the breaker gives its
// own), whitespace collapsed, cut at a word with an ellipsis, so the message never ends mid-phrase as in "(the API is
// );".
export function lastErrorText(error: string, max = 160): string {
  const text = error
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\s*\([^()]*\)$/, '');
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  return `${cut.slice(0, cut.lastIndexOf(' ') > max / 2 ? cut.lastIndexOf(' ') : max)}…`;
}

// A circuit breaker per tier and model: N upstream failures in a row open it; after the cooldown one probe may pass.
export class CircuitBreakers {
  private readonly circuits = new Map<string, Circuit>();

  constructor(
    private readonly options: {
      threshold: number;
      cooldownMs: number;
      onTransition?: (key: string, to: State) => void;
    },
  ) {}

  private moveTo(key: string, c: Circuit, to: State): void {
    if (c.state !== to) this.options.onTransition?.(key, to);
    c.state = to;
  }

  private get(key: string): Circuit {
    let c = this.circuits.get(key);
    if (!c) this.circuits.set(key, (c = { state: 'closed', failures: 0, probing: false }));
    return c;
  }

  // Throws at once while the circuit is open; lets exactly one probe through once the cooldown has passed.
  admit(key: string, now = Date.now()): BreakerTicket {
    const probe = this.check(key, now);
    let done = false;
    const report = (v: Verdict) => {
      if (done) return;
      done = true;
      if (v.kind === 'success') this.success(key);
      else if (v.kind === 'failure') this.failure(key, v.error);
      // Only the probe's own "nothing learned" frees the probe slot: a long call admitted while closed must not.
      else if (probe) this.neutral(key);
    };
    return { report };
  }

  // Throws while open; true when this call is the one probe of a half-open circuit.
  private check(key: string, now: number): boolean {
    if (this.options.threshold <= 0) return false;
    const c = this.get(key);
    if (c.state === 'closed') return false;
    const waitMs = (c.openedAt ?? now) + this.options.cooldownMs - now;
    if (c.state === 'open' && waitMs <= 0) this.moveTo(key, c, 'half_open');
    if (c.state === 'half_open' && !c.probing) {
      c.probing = true;
      return true;
    }
    const next =
      c.state === 'half_open' ? 'a probe call is running now' : `next probe in ${Math.ceil(waitMs / 1000)} s`;
    throw new ToolError(
      `circuit open for ${key}: ${c.failures} upstream failures in a row ` +
        `(last: ${c.lastError ?? 'unknown'}); calls fail fast ` +
        `for ${Math.round(this.options.cooldownMs / 1000)} s, ${next}. Retry later or use another tier/model.`,
    );
  }

  private success(key: string): void {
    const c = this.get(key);
    this.moveTo(key, c, 'closed');
    c.failures = 0;
    c.probing = false;
  }

  private failure(key: string, error: string, now = Date.now()): void {
    if (this.options.threshold <= 0) return;
    const c = this.get(key);
    c.failures++;
    c.lastError = lastErrorText(error);
    c.probing = false;
    if (c.state === 'half_open' || c.failures >= this.options.threshold) {
      this.moveTo(key, c, 'open');
      c.openedAt = now;
    }
  }

  // A call ended without telling anything about the upstream (cancelled, timed out locally): release a probe slot.
  private neutral(key: string): void {
    this.get(key).probing = false;
  }

  snapshot(
    now = Date.now(),
  ): Record<string, { state: State; failures: number; next_probe_in_s?: number; last_error?: string }> {
    const out: Record<string, { state: State; failures: number; next_probe_in_s?: number; last_error?: string }> = {};
    for (const [key, c] of this.circuits) {
      out[key] = { state: c.state, failures: c.failures, ...(c.lastError ? { last_error: c.lastError } : {}) };
      if (c.state === 'open')
        out[key]!.next_probe_in_s = Math.max(
          0,
          Math.ceil(((c.openedAt ?? now) + this.options.cooldownMs - now) / 1000),
        );
    }
    return out;
  }
}
