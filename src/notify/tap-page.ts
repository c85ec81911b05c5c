import { createHash } from 'node:crypto';
import { decisionText } from '../claude/summarize.js';
import type { InputAnswer } from '../tasks/input-requests.js';
import type { TaskRecord } from '../tasks/types.js';
import { verifyTap, TAP_PATH, type TapGrant } from './one-tap.js';

// What the one-tap page needs of the task layer: a task's record, and the one answer path answer_task takes.
export interface TapDeps {
  /** The links key; it may have to come from Redis (a cluster's), and fail while Redis is not reachable. */
  key(): Promise<Buffer>;
  record(id: string): Promise<TaskRecord | undefined>;
  answer(id: string, requestId: string, answer: InputAnswer): Promise<unknown>;
}

const STYLE =
  'body{font:16px/1.45 system-ui,sans-serif;max-width:40rem;margin:1.5rem auto;padding:0 1rem}' +
  'pre{white-space:pre-wrap;word-break:break-word;background:#f3f3f3;padding:.75rem;border-radius:6px}' +
  'button{font-size:1.1rem;padding:.6rem 1.4rem}textarea{width:100%;min-height:4rem}' +
  '.deny{color:#a00}.allow{color:#060}';
const CSP =
  `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; form-action ` +
  `'self'; frame-ancestors 'none'; base-uri 'none'`;

const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(status: number, title: string, body: string): Response {
  const html =
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" ` +
    `content="width=device-width,initial-scale=1"><meta name="referrer" ` +
    `content="no-referrer"><title>${esc(title)}</title><style>${STYLE}</style></head>` +
    `<body><h1>${esc(title)}</h1>${body}</body></html>`;
  return new Response(html, {
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': CSP,
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
    },
  });
}

// The request a grant is for, when it is still the task's open question.
async function openRequest(deps: TapDeps, g: TapGrant) {
  const rec = await deps.record(g.taskId).catch(() => undefined);
  const open = rec?.state === 'needs_input' ? rec.inputRequest : undefined;
  return rec && open?.request_id === g.requestId ? { rec, open } : undefined;
}

// GET /tap/<token>: the whole request and one confirm button (a GET never decides: link previews fetch links).
// POST /tap/<token>: the decision, through the same path as answer_task; a link works once, for its one request,
// until the request's deadline. No login: the signed link is the only grant.
export function tapHandler(deps: TapDeps): (request: Request) => Promise<Response> {
  const used = new Set<string>();
  return async (request) => {
    const url = new URL(request.url);
    const token = url.pathname.slice(TAP_PATH.length);
    let key: Buffer;
    try {
      key = await deps.key();
    } catch (err) {
      const why = esc((err as Error).message);
      return page(503, 'Try again shortly', `<p>This link cannot be checked now: ${why}.</p>`);
    }
    const checked = verifyTap(key, token);
    if ('refused' in checked) return page(403, 'Link refused', `<p>${esc(checked.refused)}.</p>`);
    const g = checked.grant;
    const gone = () =>
      page(
        410,
        'Link no longer valid',
        `<p>Task ${esc(g.taskId)} no longer waits on request ${esc(g.requestId)}: it was answered (links ` +
          `work once), timed out, or the task ended.</p>`,
      );
    if (used.has(token)) return gone();
    const found = await openRequest(deps, g);
    if (!found) return gone();
    const verb = g.decision === 'allow' ? 'Allow' : 'Deny';
    if (request.method === 'GET' || request.method === 'HEAD') {
      const { rec, open } = found;
      // The one rendering of an input for a decision (control and bidi characters shown escaped), whole.
      const input = decisionText(open.tool, open.input);
      const message =
        g.decision === 'deny'
          ? '<p><label>Message to claude (optional)<br><textarea name="message" ' +
            'maxlength="2000"></textarea></label></p>'
          : '';
      return page(
        200,
        `${verb} ${open.tool}?`,
        `<p>Task <b>${esc(rec.id)}</b> (${esc(rec.request.tier)}, ${esc(rec.request.cwd)}) asks to run ` +
          `<b>${esc(open.tool)}</b> with this input (${input.length} characters, shown whole):</p>` +
          `<pre>${esc(input)}</pre>${open.reason ? `<p>Reason: ${esc(open.reason)}</p>` : ''}` +
          `<p>Prompt: ${esc(rec.request.prompt.slice(0, 300))}${rec.request.prompt.length > 300 ? '…' : ''}</p>` +
          `<p>Unanswered, it will be denied at ${esc(open.expires_at)}.</p>` +
          `<form method="post">${message}<button type="submit" class="${g.decision}">${verb}</button></form>`,
      );
    }
    if (request.method !== 'POST') return page(405, 'Method not allowed', '<p>Open the link, then confirm.</p>');
    const origin = request.headers.get('origin');
    if (origin && origin !== 'null' && origin !== url.origin)
      return page(403, 'Refused', '<p>The confirmation came from another site.</p>');
    const form = await request.formData().catch(() => undefined);
    const text =
      g.decision === 'deny'
        ? String(form?.get('message') ?? '')
            .slice(0, 2000)
            .trim()
        : '';
    used.add(token);
    try {
      await deps.answer(g.taskId, g.requestId, {
        decision: g.decision,
        message: text || undefined,
        by: 'a one-tap link',
      });
    } catch {
      return gone();
    }
    return page(
      200,
      g.decision === 'allow' ? 'Allowed' : 'Denied',
      `<p>Task ${esc(g.taskId)}: ${esc(found.open.tool)} ` +
        `was ${g.decision === 'allow' ? 'allowed; the task goes on' : 'denied; claude is told'}.</p>`,
    );
  };
}
