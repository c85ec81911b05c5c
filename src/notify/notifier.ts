import { createHmac } from 'node:crypto';
import type { NotifyConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { InputRequest } from '../tasks/input-requests.js';
import { isFinal, type TaskRecord } from '../tasks/types.js';
import { signTap, TAP_PATH } from './one-tap.js';

// A notification waiting to be sent; a needs_input one keeps what its links will grant, signed when it is sent.
interface Queued {
  event: string;
  task: string;
  n: Notification;
  links?: { base: string; taskId: string; requestId: string; expiresAt: number };
}

// What the webhook receives, one JSON object per event.
export interface Notification {
  event: string;
  task_id: string;
  state: string;
  at: string;
  tier: string;
  model: string;
  principal: string;
  cwd: string;
  prompt: string;
  result?: string;
  error?: string;
  cost_usd: number;
  branch?: string | null;
  input_request?: Omit<InputRequest, 'kind' | 'asked_at'>;
  /** needs_input: one-tap links that allow or deny this one request (signed, single-use, expiring with it). */
  links?: { allow: string; deny: string };
}

// How a notification is signed: HMAC-SHA256 of "<timestamp>.<body>" with notify.secret, hex, in this header.
export const SIGNATURE_HEADER = 'x-claude-tiers-signature';
export const TIMESTAMP_HEADER = 'x-claude-tiers-timestamp';

// The signature a receiver recomputes to trust a notification.
export const signBody = (secret: string, timestamp: string, body: string): string =>
  `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;

const REMEMBER = 2000;
// How long a needs_input notification waits for the links key (a cluster's is in Redis) before it goes without links.
const KEY_WAIT_MS = 2000;
const POST_TIMEOUT_MS = 10_000;
const head = (s: string | undefined, n: number): string | undefined =>
  s === undefined ? undefined : s.length > n ? `${s.slice(0, n)}… (${s.length} characters)` : s;

// Tells a webhook when a task needs its caller's answer or ends. Each event is sent once, in order, from a bounded
// queue (the oldest dropped, and logged, when it is full), retried with a doubling wait on network errors, 429 and
// 5xx; a needs_input event carries one-tap links when the server has an address to serve them at and its links key
// (a cluster's, from Redis) comes within KEY_WAIT_MS; else it goes without them (answer_task still answers).
export class Notifier {
  private readonly queue: Queued[] = [];
  private readonly sent = new Set<string>();
  private sending: Promise<void> | undefined;
  private closed = false;
  private linkBase: string | undefined;

  constructor(
    private readonly cfg: NotifyConfig,
    private readonly linkKey: () => Promise<Buffer>,
    private readonly log: Logger,
  ) {
    this.linkBase = cfg.linkBase?.replace(/\/+$/, '');
  }

  // The address one-tap links point at, once the server knows where it listens (notify.linkBase wins).
  setLinkBase(url: string): void {
    this.linkBase ??= url.replace(/\/+$/, '');
  }

  // Called on every change of a task this server runs: queues the events the config asks for, each once.
  observe(rec: Readonly<TaskRecord>): void {
    if (this.closed) return;
    const open = rec.state === 'needs_input' ? rec.inputRequest : undefined;
    const event = open ? 'needs_input' : isFinal(rec.state) ? rec.state : undefined;
    if (!event || !(this.cfg.events as readonly string[]).includes(event)) return;
    const key = open ? `${rec.id}/${open.request_id}` : `${rec.id}/end`;
    if (this.sent.has(key)) return;
    this.sent.add(key);
    if (this.sent.size > REMEMBER) this.sent.delete(this.sent.values().next().value!);
    this.enqueue(event, rec.id, this.payload(event, rec));
  }

  // The notification as it is now (the record changes later); its links are signed when it is sent.
  private payload(event: string, rec: Readonly<TaskRecord>): Omit<Queued, 'event' | 'task'> {
    const n: Notification = {
      event,
      task_id: rec.id,
      state: rec.state,
      at: new Date().toISOString(),
      tier: rec.request.tier,
      model: rec.request.model,
      principal: rec.principal ?? 'local',
      cwd: rec.request.cwd,
      prompt: head(rec.request.prompt, 500)!,
      cost_usd: rec.stats.costUsd,
    };
    if (rec.result?.text) n.result = head(rec.result.text, 2000);
    if (rec.end && rec.state !== 'succeeded') n.error = rec.end.message;
    if (rec.worktreeSummary) n.branch = rec.worktreeSummary.branch;
    const req = rec.inputRequest;
    if (event === 'needs_input' && req) {
      n.input_request = {
        request_id: req.request_id,
        tool: req.tool,
        input: req.input,
        reason: req.reason,
        expires_at: req.expires_at,
      };
      const expiresAt = Date.parse(req.expires_at);
      if (this.linkBase && Number.isFinite(expiresAt))
        return { n, links: { base: this.linkBase, taskId: rec.id, requestId: req.request_id, expiresAt } };
    }
    return { n };
  }

  // The body to send: with the one-tap links when the key comes in time.
  private async body(q: Queued): Promise<string> {
    if (!q.links) return JSON.stringify(q.n);
    const { base, ...grant } = q.links;
    let timer: NodeJS.Timeout | undefined;
    const key = await Promise.race([
      this.linkKey().catch((err: unknown) => {
        this.log.warn({ task: q.task, err: (err as Error).message }, 'notify: needs_input sent without one-tap links');
        return undefined;
      }),
      new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), KEY_WAIT_MS).unref())),
    ]).finally(() => clearTimeout(timer));
    if (!key) return JSON.stringify(q.n);
    const link = (decision: 'allow' | 'deny') => `${base}${TAP_PATH}${signTap(key, { ...grant, decision })}`;
    return JSON.stringify({ ...q.n, links: { allow: link('allow'), deny: link('deny') } } satisfies Notification);
  }

  private enqueue(event: string, task: string, built: Omit<Queued, 'event' | 'task'>): void {
    this.queue.push({ event, task, ...built });
    while (this.queue.length > this.cfg.maxQueue) {
      const dropped = this.queue.shift()!;
      this.log.warn(
        { event: dropped.event, task: dropped.task, maxQueue: this.cfg.maxQueue },
        'notify: queue full; the oldest notification was dropped',
      );
    }
    this.sending ??= this.drain().finally(() => (this.sending = undefined));
  }

  private async drain(): Promise<void> {
    for (let next = this.queue.shift(); next; next = this.queue.shift()) await this.deliver(next);
  }

  private async deliver(q: Queued): Promise<void> {
    const n = { ...q, body: await this.body(q) };
    for (let attempt = 1; ; attempt++) {
      const ts = Math.floor(Date.now() / 1000).toString();
      let outcome: string;
      try {
        const res = await fetch(this.cfg.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [TIMESTAMP_HEADER]: ts,
            [SIGNATURE_HEADER]: signBody(this.cfg.secret, ts, n.body),
          },
          body: n.body,
          signal: AbortSignal.timeout(POST_TIMEOUT_MS),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return;
        outcome = `HTTP ${res.status}`;
        if (res.status < 500 && res.status !== 429) {
          this.log.warn(
            { event: n.event, task: n.task, status: res.status },
            'notify: the webhook refused the notification; not retried',
          );
          return;
        }
      } catch (err) {
        outcome = (err as Error).message;
      }
      if (attempt >= this.cfg.attempts || this.closed) {
        this.log.warn(
          { event: n.event, task: n.task, attempts: attempt, last: outcome },
          'notify: giving up on a notification',
        );
        return;
      }
      await new Promise((r) => setTimeout(r, this.cfg.backoffMs * 2 ** (attempt - 1)).unref());
    }
  }

  // Stops taking events and gives what is queued up to `ms` to go out.
  async close(ms: number): Promise<void> {
    this.closed = true;
    await Promise.race([this.sending, new Promise((r) => setTimeout(r, ms).unref())]);
  }
}
