import { h, replace } from './dom.js';
import type { ActionResult, Detail, Ops, Row, Source, View } from './model.js';
import {
  appendEvents,
  notice,
  passes,
  renderCounts,
  renderList,
  renderNewTask,
  renderOps,
  renderRow,
  renderTask,
  type Filter,
} from './render.js';

interface Me {
  principal: string;
  admin: boolean;
  csrf: string;
  roots: string[];
  tiers: string[];
  version: string;
  merge: boolean;
}

async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } });
  if (r.status === 401) {
    location.assign('/');
    throw new Error('logged out');
  }
  const body = (await r.json()) as T & { error?: string };
  if (!r.ok) throw new Error(body.error ?? `HTTP ${r.status}`);
  return body;
}

// The board's API as the page's source: reads with the session cookie, actions with the CSRF token as well.
function httpSource(
  me: Me,
): Source & { post(url: string, body: unknown): Promise<ActionResult & { structured?: { task_id?: string } }> } {
  const post = async (url: string, body: unknown) => {
    const r = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrf },
      body: JSON.stringify(body),
    });
    const b = (await r.json().catch(() => ({}))) as {
      ok?: boolean;
      text?: string;
      error?: string;
      structured?: { task_id?: string };
    };
    return { ok: r.ok && b.ok !== false, text: b.text ?? b.error ?? `HTTP ${r.status}`, structured: b.structured };
  };
  const base = (id: string) => `/board/api/tasks/${encodeURIComponent(id)}`;
  return {
    kind: 'http',
    canStart: true,
    canMerge: me.merge,
    post,
    task: (id) => getJson<Detail>(base(id)),
    answer: (id, request_id, decision, message) => post(`${base(id)}/answer`, { request_id, decision, message }),
    kill: (id) => post(`${base(id)}/kill`, {}),
    merge: (id, strategy) => post(`${base(id)}/merge`, { strategy }),
    start: async (input) => {
      const r = await post('/board/api/tasks', input);
      return { ...r, task_id: r.structured?.task_id };
    },
    rawLogUrl: (id) => `${base(id)}/log`,
  };
}

async function main(): Promise<void> {
  const root = document.getElementById('app')!;
  const me = await getJson<Me>('/board/api/me');
  const src = httpSource(me);
  const rows = new Map<string, Row>();
  const filter: Filter = { state: '', tier: '', text: '' };
  let selected: string | undefined = location.hash.slice(1) || undefined;
  let taskStream: EventSource | undefined;
  let current: View | undefined;

  const status = h('div', { class: 'status' });
  const countsBox = h('div', {});
  const listBox = h('div', { class: 'list' });
  const taskBox = h('div', { class: 'detail', 'data-testid': 'detail' }, h('p', { class: 'sub' }, 'Select a task.'));
  const opsBox = h('div', {});
  const live = h('span', { class: 'live', 'data-testid': 'live' }, 'connecting');
  const say = (text: string, ok: boolean) => replace(status, notice(text, ok));

  const sorted = () => [...rows.values()].sort((a, b) => (a.task_id < b.task_id ? 1 : -1));
  const drawList = () => {
    replace(
      countsBox,
      renderCounts(sorted(), filter, (st) => ((filter.state = st), drawList())),
    );
    replace(listBox, renderList(sorted(), filter, selected, select));
  };
  // Changed rows in place: each one's element replaced, added where it sorts, or removed when the filters hide it;
  // the other rows stay as they are, so a change costs a row, not the whole list (the whole list is drawn again only
  // when it is or becomes empty).
  const patchList = (changed: Row[]) => {
    const body = listBox.querySelector('tbody');
    if (!body?.querySelector('tr[data-task]')) return drawList();
    for (const r of changed) {
      const old = body.querySelector(`tr[data-task="${CSS.escape(r.task_id)}"]`);
      if (!passes(r, filter)) old?.remove();
      else if (old) old.replaceWith(renderRow(r, selected, select));
      else {
        const next = [...body.children].find((el) => (el.getAttribute('data-task') ?? '') < r.task_id);
        body.insertBefore(renderRow(r, selected, select), next ?? null);
      }
    }
    if (!body.querySelector('tr[data-task]')) return drawList();
    replace(
      countsBox,
      renderCounts([...rows.values()], filter, (st) => ((filter.state = st), drawList())),
    );
  };

  const logout = async () => {
    await src.post('/board/logout', {});
    location.assign('/');
  };
  const tierSel = h(
    'select',
    {
      'data-testid': 'filter-tier',
      onchange: (e: Event) => ((filter.tier = (e.target as HTMLSelectElement).value), drawList()),
    },
    h('option', { value: '' }, 'all tiers'),
    me.tiers.map((t) => h('option', { value: t }, t)),
  );
  const text = h('input', {
    type: 'search',
    placeholder: 'filter: id, prompt, cwd, branch',
    'data-testid': 'filter-text',
    oninput: (e: Event) => ((filter.text = (e.target as HTMLInputElement).value), drawList()),
  });
  const newTask = renderNewTask(me.tiers, me.roots, async (input) => {
    const r = await src.start!(input);
    say(r.ok ? `started ${r.task_id ?? ''}` : r.text, r.ok);
    if (r.ok && r.task_id) void select(r.task_id);
  });
  replace(
    root,
    h(
      'header',
      { class: 'top' },
      h('h1', {}, 'claude-tiers'),
      live,
      h('span', { class: 'who', 'data-testid': 'who' }, me.principal, me.admin ? ' (admin)' : ''),
      h('button', { 'data-testid': 'logout', onclick: () => void logout() }, 'Log out'),
    ),
    status,
    h(
      'main',
      {},
      h('div', { class: 'left' }, newTask, h('div', { class: 'filters' }, tierSel, text), countsBox, listBox),
      taskBox,
    ),
    opsBox,
  );

  // One task: its detail once, then its stream (events after the cursor; Last-Event-ID resumes after a drop).
  async function select(id: string): Promise<void> {
    selected = id;
    history.replaceState(null, '', `#${id}`);
    taskStream?.close();
    drawList();
    let detail: Detail;
    try {
      detail = await src.task(id);
    } catch (err) {
      replace(taskBox, h('p', { class: 'error' }, (err as Error).message));
      return;
    }
    if (selected !== id) return;
    const events = h('div', { class: 'events', 'data-testid': 'events' });
    appendEvents(events, detail.view);
    // Each task event draws the task again (`keep`): what the person was typing there (a follow-up, a deny message for
    // the same request) stays, with its focus and caret. The draw of select (after an action sent it) starts empty.
    const typing = '[data-testid="deny-message"], [data-testid="followup-prompt"]';
    const fields = () => [...taskBox.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>(typing)];
    const key = (el: HTMLElement) => `${el.dataset.testid}:${el.dataset.request ?? ''}`;
    const draw = (keep: boolean) => {
      current = detail.view;
      const same = keep && taskBox.querySelector('[data-testid="task-view"]')?.getAttribute('data-task') === id;
      const old = same ? fields() : [];
      const typed = new Map(old.map((el) => [key(el), el.value]));
      const active = old.find((el) => el === document.activeElement);
      const caret = active && { key: key(active), start: active.selectionStart, end: active.selectionEnd };
      replace(taskBox, renderTask(detail, src, actions(id), events));
      for (const el of fields()) {
        el.value = typed.get(key(el)) ?? el.value;
        if (caret?.key !== key(el)) continue;
        el.focus();
        el.setSelectionRange(caret.start, caret.end);
      }
    };
    draw(false);
    const stream = new EventSource(`/board/api/tasks/${encodeURIComponent(id)}/stream?cursor=${detail.view.cursor}`);
    taskStream = stream;
    stream.addEventListener('task', (ev) => {
      const v = JSON.parse((ev as MessageEvent<string>).data) as View;
      const wasFinal = detail.view.final;
      const fresh = v.cursor > detail.view.cursor ? v.events : [];
      appendEvents(events, { ...v, events: fresh });
      detail = { ...detail, view: { ...v, events: [] } };
      draw(true);
      if (v.final && !wasFinal) void src.task(id).then((d) => selected === id && ((detail = d), draw(true)));
    });
  }

  function actions(id: string) {
    const after = (r: ActionResult) => {
      say(r.text.split('\n')[0] ?? '', r.ok);
      if (selected === id) void select(id);
    };
    return {
      answer: (d: 'allow' | 'deny', m: string) =>
        void src.answer(id, current?.input_request?.request_id ?? '', d, m).then(after),
      kill: () => void src.kill(id).then(after),
      merge: (st: 'merge' | 'squash') => void src.merge(id, st).then(after),
      followUp: (prompt: string) =>
        void src.start!({ prompt, continue_task_id: id }).then((r) => {
          say(r.ok ? `started ${r.task_id ?? ''}` : r.text, r.ok);
          if (r.ok && r.task_id) void select(r.task_id);
        }),
    };
  }

  let opsTimer: number | undefined;
  const drawOps = () => {
    opsTimer ??= window.setTimeout(() => {
      opsTimer = undefined;
      void getJson<Ops>('/board/api/ops').then(
        (o) => replace(opsBox, renderOps(o)),
        () => {},
      );
    }, 300);
  };

  // The list: everything once, then the rows that change (the browser resumes with Last-Event-ID after a drop).
  const stream = new EventSource('/board/api/stream');
  stream.onopen = () => replace(live, 'live');
  stream.onerror = () => replace(live, 'reconnecting');
  stream.addEventListener('list', (ev) => {
    rows.clear();
    for (const r of (JSON.parse((ev as MessageEvent<string>).data) as { rows: Row[] }).rows) rows.set(r.task_id, r);
    drawList();
    drawOps();
  });
  stream.addEventListener('rows', (ev) => {
    const changed = (JSON.parse((ev as MessageEvent<string>).data) as { rows: Row[] }).rows;
    for (const r of changed) {
      rows.set(r.task_id, r);
      if (r.task_id === selected && current && r.state !== current.state) current = { ...current, state: r.state };
    }
    patchList(changed);
    drawOps();
  });
  drawOps();
  if (selected) void select(selected);
}

void main().catch((err: unknown) => {
  const root = document.getElementById('app');
  if (root) replace(root, h('p', { class: 'error' }, `The board could not start: ${(err as Error).message}`));
});
