// Every response of the board: its own origin only, never framed, never cached, never sniffed.
export const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" on form posts, and the login is one.
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};
