import { describe, expect, it } from 'vitest';
import { CircuitBreakers, lastErrorText } from '../../src/guards/breaker.js';
import { describeApiError } from '../../src/errors.js';

describe('the circuit breaker message (finding 14)', () => {
  it('quotes the last error without its hint or cut at a word, never "(the API is );"', () => {
    const breakers = new CircuitBreakers({ threshold: 1, cooldownMs: 30_000 });
    // 165 characters of detail put character 200 of the described error right after "(the API is ".
    const error = describeApiError(529, 'x'.repeat(165));
    expect(error.slice(0, 200).endsWith('(the API is ')).toBe(true);
    breakers.admit('speed:haiku').report({ kind: 'failure', error });
    let message = '';
    try {
      breakers.admit('speed:haiku');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(
      new RegExp(
        String.raw`^circuit open for speed:haiku: 1 upstream failures in a row ` +
          String.raw`\(last: Claude API error 529: x+…\); calls fail fast for 30 s`,
      ),
    );
    expect(message).not.toMatch(/\(the API is \)/);
  });

  it('keeps a short error whole, without the advice the breaker message gives itself', () => {
    expect(
      lastErrorText('Claude API error 529: Overloaded (the API is overloaded; retry later or use another model/tier)'),
    ).toBe('Claude API error 529: Overloaded');
    expect(lastErrorText('Claude API unreachable: connect ECONNREFUSED 127.0.0.1:9; check ANTHROPIC_BASE_URL')).toBe(
      'Claude API unreachable: connect ECONNREFUSED 127.0.0.1:9; check ANTHROPIC_BASE_URL',
    );
    const long = `word ${'abcdefgh '.repeat(30)}`;
    expect(lastErrorText(long)).toMatch(/^word (abcdefgh ){16}abcdefgh…$/);
  });
});
