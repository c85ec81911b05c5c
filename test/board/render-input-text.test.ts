import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionText, DECISION_MAX_CHARS } from '../../src/claude/decision-text.js';
import { elicitationFor } from '../../src/mcp/input.js';
import { TaskViewSchema, type TaskView } from '../../src/shapes/task-view.js';
import { viewText } from '../../src/tasks/view.js';
import type { ActionResult, Source } from '../../web/board/model.js';
import { renderTask, type TaskActions } from '../../web/board/render.js';

// A cluster mid-upgrade: a view made by an older server has no input_request.input_text. The board (and the MCP App,
// which renders with the same render.ts) and the tool result's text then render the input themselves, the same way.
// And a question's tool name and reason are the task's words too: every place that shows the question escapes them.

// Just enough of a DOM for render.ts (dom.ts builds with createElement, setAttribute, appendChild, text nodes); every
// element made is kept in `made`, where a test finds it by its data-testid.
class FakeNode {
  readonly children: FakeNode[] = [];
  readonly attrs: Record<string, string> = {};
  value = '';
  constructor(
    readonly tag: string,
    readonly text = '',
  ) {}
  get firstChild(): FakeNode | null {
    return this.children[0] ?? null;
  }
  get textContent(): string {
    return this.tag === '#text' ? this.text : this.children.map((c) => c.textContent).join('');
  }
  appendChild(c: FakeNode): FakeNode {
    this.children.push(c);
    return c;
  }
  removeChild(c: FakeNode): FakeNode {
    this.children.splice(this.children.indexOf(c), 1);
    return c;
  }
  setAttribute(k: string, v: string): void {
    this.attrs[k] = v;
  }
  addEventListener(): void {}
}

let made: FakeNode[] = [];
const element = (tag: string) => {
  const n = new FakeNode(tag);
  made.push(n);
  return n;
};
const g = globalThis as { document?: unknown };
let saved: unknown;
beforeAll(() => {
  saved = g.document;
  g.document = {
    createElement: element,
    createElementNS: (_ns: string, tag: string) => element(tag),
    createTextNode: (text: string) => new FakeNode('#text', text),
  };
});
afterAll(() => {
  g.document = saved;
});

const ok = async (): Promise<ActionResult> => ({ ok: true, text: '' });
const src: Source = {
  kind: 'http',
  canStart: false,
  canMerge: false,
  task: () => Promise.reject(new Error('not asked here')),
  answer: ok,
  kill: ok,
  merge: ok,
};
const act: TaskActions = { answer: () => undefined, kill: () => undefined, merge: () => undefined, followUp: () => {} };
// The board's text of the element with this data-testid in a render of `view` (undefined: not rendered).
function boardRender(view: TaskView): (testId: string) => string | undefined {
  made = [];
  renderTask({ view }, src, act, document.createElement('div'));
  const mine = made;
  return (testId) => mine.find((n) => n.attrs['data-testid'] === testId)?.textContent;
}

// A needs_input view as this server makes it, with the question q (input_text rendered as the server does).
function viewAsking(q: { tool: string; input: unknown; reason?: string }): TaskView {
  return TaskViewSchema.parse({
    task_id: 't_old',
    state: 'needs_input',
    final: false,
    tier: 'comprehensive',
    model: 'opus',
    cwd: '/tmp',
    prompt_preview: 'p',
    created_at: '2026-12-03T14:59:00.000Z',
    elapsed_s: 2,
    progress: 'turn 1 · 2 s',
    turns: 1,
    tool_calls: 1,
    last_text: '',
    cost_usd: 0,
    tokens: { input: 0, output: 0 },
    events: [],
    cursor: 0,
    permission_denials: [],
    input_request: {
      request_id: 'p_1',
      kind: 'permission',
      ...q,
      asked_at: '2026-12-03T14:59:00.000Z',
      expires_at: '2026-12-03T15:00:00.000Z',
      input_text: decisionText(q.tool, q.input, DECISION_MAX_CHARS),
    },
  });
}

const input = { command: 'rm -rf build\u202e # done', description: 'clean' };
// The same view as an older server sent it: the question without input_text.
function olderView(): TaskView {
  const v = structuredClone(viewAsking({ tool: 'Bash', input }));
  const older: { input_text?: string } | undefined = v.input_request;
  delete older?.input_text;
  return v;
}

describe('a permission request from an older server (no input_text)', () => {
  const expected = decisionText('Bash', input, DECISION_MAX_CHARS);

  it('shows its input on the board, rendered as the server would', () => {
    expect(olderView().input_request).not.toHaveProperty('input_text');
    expect(expected).toContain('"command":"rm -rf build\\u{202e} # done"');
    expect(boardRender(olderView())('permission-input')).toBe(expected);
  });

  it("shows its input in the tool result's text", () => {
    expect(viewText(olderView())).toContain(`needs input: permission for Bash ${expected};`);
  });
});

// C0 and C1 controls, bidi overrides and isolates, zero widths: what could act on a terminal or reorder what the
// approver reads.
// eslint-disable-next-line no-control-regex -- control characters are exactly what this finds
const HIDING = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;
// A tool name and a reason with ESC (a screen clear), an OSC 52 clipboard write, a right-to-left override, a zero
// width.
const tool = 'Write\u001b[2J\u202e';
const reason = 'checked: x\u001b]52;c;aGk=\u0007\u202egnp\u200b';
const question = { tool, input: { file_path: '/tmp/a.txt', content: 'a' }, reason };

describe('a question whose tool name and reason hold escapes: every sink shows them escaped', () => {
  it('the board', () => {
    const find = boardRender(viewAsking(question));
    const shown = find('permission') ?? '';
    expect(find('permission-tool')).toBe('Write\\u{1b}[2J\\u{202e}');
    expect(shown).toContain('checked: x\\u{1b}]52;c;aGk=\\u{7}\\u{202e}gnp\\u{200b}');
    expect(shown).not.toMatch(HIDING);
  });

  it("the tool result's text", () => {
    const text = viewText(viewAsking(question));
    expect(text).toContain('needs input: permission for Write\\u{1b}[2J\\u{202e} {"file_path"');
    expect(text).toContain('(checked: x\\u{1b}]52;c;aGk=\\u{7}\\u{202e}gnp\\u{200b});');
    // Its lines (a line break is its own).
    for (const line of text.split('\n')) expect(line).not.toMatch(HIDING);
  });

  it("the elicitation's message", () => {
    const { message } = elicitationFor('t_old', viewAsking(question).input_request!).params;
    expect(message).toContain('asks for permission: Write\\u{1b}[2J\\u{202e} {"file_path"');
    expect(message).toContain('(checked: x\\u{1b}]52;c;aGk=\\u{7}\\u{202e}gnp\\u{200b});');
    expect(message).not.toMatch(HIDING);
  });
});
