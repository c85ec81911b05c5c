import { App, PostMessageTransport } from '@modelcontextprotocol/ext-apps';
import { h, replace } from './dom.js';
import type { ActionResult, Detail, Row, Source, View } from './model.js';
import { appendEvents, notice, renderCounts, renderList, renderTask, type Filter } from './render.js';

// The board inside an MCP client (an MCP App): the same list and task rendering as the web board, its data read
// with list_tasks and task_status and its buttons calling answer_task, kill_task and merge_task, all through the
// host's tools/call. The selected task is followed with task_status long-polls (wait_s, cursor).
const app = new App({ name: 'claude-tiers board', version: '1' }, {});

type ToolReply = {
  isError?: boolean;
  structuredContent?: Record<string, unknown>;
  content?: Array<{ type: string; text?: string }>;
};
const textOf = (r: ToolReply) => (r.content ?? []).map((c) => c.text ?? '').join('\n');

async function call(name: string, args: Record<string, unknown>): Promise<ToolReply> {
  return (await app.callServerTool({ name, arguments: args })) as ToolReply;
}
const action = async (name: string, args: Record<string, unknown>): Promise<ActionResult> => {
  const r = await call(name, args);
  return { ok: !r.isError, text: textOf(r) };
};

const src: Source = {
  kind: 'app',
  canStart: false,
  canMerge: true,
  task: async (id) => {
    const r = await call('task_status', { task_id: id, tail: 50 });
    if (r.isError || !r.structuredContent) throw new Error(textOf(r));
    return { view: r.structuredContent as View };
  },
  answer: (id, request_id, decision, message) =>
    action('answer_task', { task_id: id, request_id, decision, ...(message ? { message } : {}) }),
  kill: (id) => action('kill_task', { task_id: id, reason: 'the board (MCP App)' }),
  merge: (id, strategy) => action('merge_task', { task_id: id, strategy }),
};

const rows = new Map<string, Row>();
const filter: Filter = { state: '', tier: '', text: '' };
let selected: string | undefined;
let generation = 0;
const status = h('div', { class: 'status' });
const countsBox = h('div', {});
const listBox = h('div', { class: 'list' });
const taskBox = h('div', { class: 'detail', 'data-testid': 'detail' }, h('p', { class: 'sub' }, 'Select a task.'));

function drawList(): void {
  const all = [...rows.values()].sort((a, b) => (a.task_id < b.task_id ? 1 : -1));
  replace(
    countsBox,
    renderCounts(all, filter, (st) => ((filter.state = st), drawList())),
  );
  replace(
    listBox,
    renderList(all, filter, selected, (id) => void select(id)),
  );
}

async function loadList(): Promise<void> {
  const r = await call('list_tasks', { limit: 50 });
  const tasks = (r.structuredContent?.tasks ?? []) as Row[];
  rows.clear();
  for (const t of tasks) rows.set(t.task_id, t);
  drawList();
}

async function select(id: string): Promise<void> {
  selected = id;
  const mine = ++generation;
  drawList();
  let detail: Detail;
  try {
    detail = await src.task(id);
  } catch (err) {
    replace(taskBox, h('p', { class: 'error' }, (err as Error).message));
    return;
  }
  const events = h('div', { class: 'events', 'data-testid': 'events' });
  appendEvents(events, detail.view);
  const after = (r: ActionResult) => {
    replace(status, notice(r.text.split('\n')[0] ?? '', r.ok));
    void loadList();
    void select(id);
  };
  const draw = () =>
    replace(
      taskBox,
      renderTask(
        detail,
        src,
        {
          answer: (d, m) => void src.answer(id, detail.view.input_request?.request_id ?? '', d, m).then(after),
          kill: () => void src.kill(id).then(after),
          merge: (st) => void src.merge(id, st).then(after),
          followUp: () => {},
        },
        events,
      ),
    );
  draw();
  // Follow it while it runs and stays selected: each long-poll returns at a change (or after wait_s).
  while (!detail.view.final && mine === generation) {
    const r = await call('task_status', { task_id: id, wait_s: 20, cursor: detail.view.cursor }).catch(() => undefined);
    if (mine !== generation || !r?.structuredContent) break;
    const v = r.structuredContent as View;
    appendEvents(events, v);
    detail = { view: { ...v, events: [] } };
    draw();
    void loadList();
  }
}

app.ontoolresult = (params) => {
  const sc = (params as ToolReply).structuredContent;
  if (typeof sc?.task_id === 'string') void loadList().then(() => select(sc.task_id as string));
  else void loadList();
};

async function main(): Promise<void> {
  const root = document.getElementById('app')!;
  replace(
    root,
    h('header', { class: 'top' }, h('h1', {}, 'claude-tiers'), h('span', { class: 'who' }, 'in your MCP client')),
    status,
    h('main', {}, h('div', { class: 'left' }, countsBox, listBox), taskBox),
  );
  await app.connect(new PostMessageTransport(window.parent, window.parent));
  await loadList();
}

void main().catch((err: unknown) => {
  const root = document.getElementById('app');
  if (root) replace(root, h('p', { class: 'error' }, `The board could not start: ${(err as Error).message}`));
});
