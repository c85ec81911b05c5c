import { questionParts } from '../../src/claude/decision-text.js';
import { h, s, type Child } from './dom.js';
import type { Detail, FileDiff, Ops, OpsPoint, Row, Source, View } from './model.js';

export const STATES = ['queued', 'running', 'needs_input', 'succeeded', 'failed', 'killed', 'timed_out', 'lost'];
const FINAL = new Set(['succeeded', 'failed', 'killed', 'timed_out', 'lost']);

export interface Filter {
  state: string;
  tier: string;
  text: string;
}

const num = (n: number) => n.toLocaleString('en-US');
const money = (n: number | undefined) => (n === undefined ? '' : `$${n.toFixed(n < 1 ? 4 : 2)}`);
const secs = (n: number | undefined) =>
  n === undefined
    ? ''
    : n >= 3600
      ? `${Math.floor(n / 3600)}h${Math.floor((n % 3600) / 60)}m`
      : n >= 60
        ? `${Math.floor(n / 60)}m${n % 60}s`
        : `${n}s`;

// Whether a row passes the filters (text matches id, prompt, cwd, branch, model).
export function passes(r: Row, f: Filter): boolean {
  if (f.state && r.state !== f.state) return false;
  if (f.tier && r.tier !== f.tier) return false;
  const q = f.text.trim().toLowerCase();
  return (
    !q ||
    [r.task_id, r.prompt_preview, r.cwd ?? '', r.branch ?? '', r.model ?? ''].some((x) => x.toLowerCase().includes(q))
  );
}

// The count of each state, as chips that filter the list.
export function renderCounts(rows: Row[], f: Filter, pick: (state: string) => void): HTMLElement {
  const counts: Record<string, number> = {};
  for (const r of rows) counts[r.state] = (counts[r.state] ?? 0) + 1;
  return h(
    'div',
    { class: 'counts', 'data-testid': 'counts' },
    h('button', { class: f.state ? 'chip' : 'chip on', onclick: () => pick('') }, `all ${rows.length}`),
    STATES.filter((st) => counts[st]).map((st) =>
      h(
        'button',
        { class: `chip st-${st}${f.state === st ? ' on' : ''}`, 'data-state': st, onclick: () => pick(st) },
        `${st} ${counts[st]}`,
      ),
    ),
  );
}

// One row of the list (the page replaces just this element when the task changes).
export function renderRow(r: Row, selected: string | undefined, select: (id: string) => void): HTMLElement {
  return h(
    'tr',
    {
      class: `${r.task_id === selected ? 'sel ' : ''}st-${r.state}`,
      'data-task': r.task_id,
      tabindex: 0,
      onclick: () => select(r.task_id),
      onkeydown: (e: Event) => (e as KeyboardEvent).key === 'Enter' && select(r.task_id),
    },
    h('td', { class: 'mono' }, r.task_id, h('div', { class: 'sub' }, r.prompt_preview)),
    h('td', {}, r.tier, r.model ? h('div', { class: 'sub' }, r.model) : null),
    h('td', {}, h('span', { class: `state st-${r.state}`, 'data-testid': 'row-state' }, r.state)),
    h('td', {}, secs(r.elapsed_s)),
    h('td', {}, r.turns ?? ''),
    h('td', {}, money(r.cost_usd)),
    h('td', { class: 'sub' }, r.last_tool ?? r.progress),
    h('td', { class: 'sub' }, r.cwd ?? '', r.branch ? h('div', { class: 'mono' }, r.branch) : null),
  );
}

// The list: one row per task, newest first.
export function renderList(
  rows: Row[],
  f: Filter,
  selected: string | undefined,
  select: (id: string) => void,
): HTMLElement {
  const shown = rows.filter((r) => passes(r, f));
  return h(
    'table',
    { class: 'tasks', 'data-testid': 'task-list' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['id', 'tier · model', 'state', 'elapsed', 'turns', 'cost', 'last tool', 'cwd · branch'].map((c) =>
          h('th', {}, c),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      shown.map((r) => renderRow(r, selected, select)),
      shown.length
        ? null
        : h(
            'tr',
            {},
            h('td', { colspan: 8, class: 'empty' }, rows.length ? 'No task matches the filters.' : 'No tasks yet.'),
          ),
    ),
  );
}

// One event line as task_status shows it ("#seq text").
export const eventLine = (e: string): HTMLElement => h('div', { class: 'ev' }, e);

// A file of the worktree diff: its counts, and its hunks with added and removed lines marked.
function renderFile(f: FileDiff): HTMLElement {
  return h(
    'details',
    { class: 'file', 'data-testid': 'diff-file', open: true },
    h(
      'summary',
      {},
      h('span', { class: 'mono' }, f.path),
      ' ',
      h('span', { class: 'add' }, `+${f.added}`),
      ' ',
      h('span', { class: 'del' }, `-${f.removed}`),
      f.binary ? ' (binary)' : '',
      f.tool_config
        ? h('span', { class: 'tool-config', 'data-testid': 'tool-config' }, ` tool configuration: ${f.tool_config}`)
        : '',
    ),
    h(
      'pre',
      { class: 'patch' },
      f.patch
        .split('\n')
        .map((l) =>
          h(
            'div',
            { class: l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : l.startsWith('@@') ? 'hunk' : '' },
            l || ' ',
          ),
        ),
    ),
  );
}

// What the task view's buttons do (the page wires them to its source and reloads what changed).
export interface TaskActions {
  answer(decision: 'allow' | 'deny', message: string): void;
  kill(): void;
  merge(strategy: 'merge' | 'squash'): void;
  followUp(prompt: string): void;
}

// One task: header and buttons, the pending permission request, prompt, live events, result, cost, diff, raw log.
export function renderTask(d: Detail, src: Source, act: TaskActions, events: HTMLElement): HTMLElement {
  const v = d.view;
  const q = v.state === 'needs_input' ? v.input_request : undefined;
  const ask = q && questionParts(q);
  const msg = h('input', {
    type: 'text',
    placeholder: 'message for claude (with Deny)',
    'data-testid': 'deny-message',
    'data-request': q?.request_id ?? '',
    maxlength: 2000,
  });
  const follow = h('textarea', {
    rows: 2,
    placeholder: "a follow-up prompt (continues this task's conversation)",
    'data-testid': 'followup-prompt',
  });
  const branch = v.worktree?.branch;
  return h(
    'section',
    { class: 'task', 'data-testid': 'task-view', 'data-task': v.task_id },
    h(
      'header',
      {},
      h('h2', { class: 'mono' }, v.task_id),
      h('span', { class: `state st-${v.state}`, 'data-testid': 'task-state' }, v.state),
      h('span', { class: 'sub' }, ` ${v.tier} · ${v.model}`),
      h(
        'div',
        { class: 'buttons' },
        !v.final ? h('button', { class: 'danger', 'data-testid': 'kill', onclick: () => act.kill() }, 'Kill') : null,
        v.final && branch && src.canMerge
          ? h('button', { 'data-testid': 'merge', onclick: () => act.merge('merge') }, 'Merge')
          : null,
        v.final && branch && src.canMerge
          ? h('button', { 'data-testid': 'squash', onclick: () => act.merge('squash') }, 'Squash')
          : null,
        src.rawLogUrl
          ? h(
              'a',
              { href: src.rawLogUrl(v.task_id), target: '_blank', rel: 'noopener', 'data-testid': 'raw-log' },
              'raw log',
            )
          : null,
      ),
    ),
    h('div', { class: 'progress', 'data-testid': 'task-progress' }, v.progress),
    q && ask
      ? h(
          'div',
          { class: 'ask', 'data-testid': 'permission' },
          h('h3', {}, 'Permission request: ', h('span', { class: 'mono', 'data-testid': 'permission-tool' }, ask.tool)),
          ask.reason ? h('p', { 'data-testid': 'permission-reason' }, ask.reason) : null,
          // A view from an older server (a cluster mid-upgrade) has no input_text: questionParts renders it alike.
          h('pre', { 'data-testid': 'permission-input' }, ask.input),
          h('p', { class: 'sub' }, `denied at ${q.expires_at} without an answer`),
          h(
            'div',
            { class: 'buttons' },
            h('button', { class: 'ok', 'data-testid': 'allow', onclick: () => act.answer('allow', '') }, 'Allow'),
            msg,
            h(
              'button',
              { class: 'danger', 'data-testid': 'deny', onclick: () => act.answer('deny', msg.value) },
              'Deny',
            ),
          ),
        )
      : null,
    h('h3', {}, 'Prompt'),
    h('pre', { class: 'prompt', 'data-testid': 'prompt' }, d.prompt ?? v.prompt_preview),
    h('h3', {}, 'Events'),
    events,
    v.writing ? h('pre', { class: 'writing' }, v.writing.text_tail) : null,
    v.end
      ? h(
          'p',
          { class: v.state === 'succeeded' ? 'done' : 'error', 'data-testid': 'task-end' },
          `${v.end.reason}: ${v.end.message}`,
        )
      : null,
    v.output !== undefined
      ? [h('h3', {}, 'Output'), h('pre', { 'data-testid': 'output' }, JSON.stringify(v.output, null, 2))]
      : null,
    v.result
      ? [
          h('h3', {}, v.result.is_error ? 'Error' : 'Result'),
          h('pre', { class: v.result.is_error ? 'error' : '', 'data-testid': 'result' }, v.result.text),
        ]
      : v.final && v.last_text
        ? [h('h3', {}, 'Partial output'), h('pre', { 'data-testid': 'result' }, v.last_text)]
        : null,
    v.permission_denials.length
      ? h(
          'p',
          { class: 'sub' },
          `permission denied: ${v.permission_denials.map((x) => `${x.tool} (${x.input})`).join(', ')}`,
        )
      : null,
    h(
      'p',
      { class: 'sub', 'data-testid': 'cost' },
      `turns ${v.turns} · cost ${money(v.cost_usd)} · tokens in ${num(v.tokens.input)} / out ${num(v.tokens.output)}`,
    ),
    d.diff || d.diff_note || branch
      ? [
          h('h3', {}, 'Diff', branch ? h('span', { class: 'sub mono' }, ` ${branch}`) : null),
          d.diff_note ? h('p', { class: 'sub' }, d.diff_note) : null,
          h('div', { 'data-testid': 'diff' }, (d.diff ?? []).map(renderFile)),
        ]
      : null,
    d.conflicts_with?.length
      ? h('p', { class: 'error', 'data-testid': 'conflicts' }, `conflicts with: ${d.conflicts_with.join(', ')}`)
      : null,
    v.final && src.canStart
      ? h(
          'form',
          {
            class: 'follow',
            onsubmit: (e: Event) => (e.preventDefault(), follow.value.trim() && act.followUp(follow.value)),
          },
          h('h3', {}, 'Follow-up'),
          follow,
          h('button', { type: 'submit', 'data-testid': 'followup-send' }, 'Continue'),
        )
      : null,
  );
}

// The new-task form: prompt, tier, a cwd among (or under) the roots, isolation.
export function renderNewTask(
  tiers: string[],
  roots: string[],
  start: (input: { prompt: string; tier?: string; cwd?: string; isolation?: string }) => void,
): HTMLElement {
  const prompt = h('textarea', {
    rows: 3,
    required: true,
    placeholder: 'What should claude do?',
    'data-testid': 'new-prompt',
  });
  const tier = h(
    'select',
    { 'data-testid': 'new-tier' },
    h('option', { value: '' }, 'tier: default'),
    tiers.map((t) => h('option', { value: t }, t)),
  );
  const cwd = h('input', { type: 'text', list: 'roots', placeholder: roots[0] ?? 'cwd', 'data-testid': 'new-cwd' });
  const iso = h(
    'select',
    { 'data-testid': 'new-isolation' },
    h('option', { value: '' }, 'isolation: default'),
    h('option', { value: 'none' }, 'none'),
    h('option', { value: 'worktree' }, 'worktree'),
  );
  return h(
    'form',
    {
      class: 'new',
      'data-testid': 'new-task',
      onsubmit: (e: Event) => (
        e.preventDefault(),
        start({
          prompt: prompt.value,
          tier: tier.value || undefined,
          cwd: cwd.value || undefined,
          isolation: iso.value || undefined,
        })
      ),
    },
    h('h3', {}, 'New task'),
    prompt,
    h(
      'div',
      { class: 'row' },
      tier,
      cwd,
      h(
        'datalist',
        { id: 'roots' },
        roots.map((r) => h('option', { value: r })),
      ),
      iso,
      h('button', { type: 'submit', 'data-testid': 'new-start' }, 'Start'),
    ),
  );
}

// A line chart of one series over the last hour, drawn as SVG elements.
function chart(
  title: string,
  points: OpsPoint[],
  pick: (p: OpsPoint) => number | null,
  unit: (n: number) => string,
): HTMLElement {
  const W = 300;
  const H = 80;
  const now = Date.now();
  const xs = (t: number) => Math.max(0, Math.min(W, W - ((now - t) / 3_600_000) * W));
  const vals = points.map((p) => [p.t, pick(p)] as const).filter((p): p is readonly [number, number] => p[1] !== null);
  const max = Math.max(...vals.map((v) => v[1]), 0) || 1;
  const ys = (v: number) => H - 4 - (v / max) * (H - 12);
  const line = vals.map((v, i) => `${i ? 'L' : 'M'}${xs(v[0]).toFixed(1)},${ys(v[1]).toFixed(1)}`).join(' ');
  const svg = s(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': title },
    s('rect', { x: 0, y: 0, width: W, height: H, class: 'bg' }),
    s('text', { x: 4, y: 11, class: 'lbl' }, `max ${unit(max)}`),
  );
  if (line) svg.appendChild(s('path', { d: line, class: 'line' }));
  for (const v of vals)
    svg.appendChild(s('circle', { cx: xs(v[0]).toFixed(1), cy: ys(v[1]).toFixed(1), r: 2, class: 'dot' }));
  return h(
    'figure',
    { class: 'chart', 'data-testid': 'chart' },
    svg,
    h('figcaption', {}, `${title} · last hour${vals.length ? '' : ' · no data yet'}`),
  );
}

// The operator panel.
export function renderOps(o: Ops): HTMLElement {
  return h(
    'section',
    { class: 'ops', 'data-testid': 'ops' },
    h('h3', {}, 'Server'),
    h(
      'p',
      {},
      `${o.scope === 'yours' ? 'your tasks: ' : ''}running ${o.running} · queued ${o.queued} · spares ` +
        `ready ${o.spares_ready}`,
    ),
    o.share
      ? h('p', { class: 'sub' }, `your fair share: ${o.share.running} running slots · ${o.share.queue} queue places`)
      : null,
    o.rate
      ? h(
          'p',
          { class: 'sub' },
          `rate headroom: you ${o.rate.client ?? '∞'} · server ${o.rate.global ?? '∞'} calls now`,
        )
      : null,
    h(
      'p',
      { class: 'sub' },
      'breakers: ',
      o.breakers.length
        ? o.breakers.map((b) => h('span', { class: `chip br-${b.state}` }, `${b.key} ${b.state}`))
        : 'none tripped yet',
    ),
    o.budgets.length
      ? h(
          'table',
          { class: 'budgets' },
          o.budgets.map((b) =>
            h(
              'tr',
              {},
              h('td', { class: 'mono' }, b.principal),
              h('td', {}, `${money(b.spent_usd)} of ${money(b.limit_usd)}`),
              h('td', { class: 'sub' }, `resets ${b.resets_at.slice(0, 16)}Z`),
            ),
          ),
        )
      : h('p', { class: 'sub' }, 'no daily budgets set'),
    h(
      'div',
      { class: 'charts' },
      chart(
        'quick_answer latency (s)',
        o.series,
        (p) => p.quick_s,
        (n) => `${n.toFixed(2)} s`,
      ),
      chart(
        'task duration (s)',
        o.series,
        (p) => p.task_s,
        (n) => `${n.toFixed(1)} s`,
      ),
      chart(
        'cost per 30 s (USD)',
        o.series,
        (p) => p.cost_usd,
        (n) => `$${n.toFixed(4)}`,
      ),
    ),
  );
}

// A status line for the result of an action.
export const notice = (text: string, ok: boolean): Child =>
  h('div', { class: ok ? 'notice' : 'notice error', role: 'status', 'data-testid': 'notice' }, text);

// True for a state that will not change again.
export const isFinalState = (state: string): boolean => FINAL.has(state);

// Appends new event lines to a view's event box (the same lines task_status shows).
export function appendEvents(box: HTMLElement, v: View): void {
  for (const e of v.events) box.appendChild(eventLine(e));
  box.scrollTop = box.scrollHeight;
}
