import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionText, DECISION_MAX_CHARS } from '../../src/claude/decision-text.js';
import type { TaskView } from '../../src/shapes/task-view.js';
import { viewText } from '../../src/tasks/view.js';
import type { Detail, Source } from '../../web/board/model.js';
import { renderTask } from '../../web/board/render.js';

// A cluster mid-upgrade: a view made by an older server has no input_request.input_text. The board (and the MCP App,
// which renders with the same render.ts) and the tool result's text then render the input themselves, the same way.

// Just enough of a DOM for render.ts (dom.ts builds with createElement, setAttribute, appendChild, text nodes).
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
  find(testId: string): FakeNode | undefined {
    if (this.attrs['data-testid'] === testId) return this;
    for (const c of this.children) {
      const hit = c.find(testId);
      if (hit) return hit;
    }
    return undefined;
  }
}

const g = globalThis as { document?: unknown };
let saved: unknown;
beforeAll(() => {
  saved = g.document;
  g.document = {
    createElement: (tag: string) => new FakeNode(tag),
    createElementNS: (_ns: string, tag: string) => new FakeNode(tag),
    createTextNode: (text: string) => new FakeNode('#text', text),
  };
});
afterAll(() => {
  g.document = saved;
});

const input = { command: 'rm -rf build\u202e # done', description: 'clean' };
// A needs_input view as an older server sent it: the question without input_text.
function olderView(): TaskView {
  const q = { request_id: 'p_1', tool: 'Bash', input, expires_at: '2026-12-03T15:00:00.000Z' };
  return {
    task_id: 't_old',
    state: 'needs_input',
    progress: 'turn 1 · 2 s',
    input_request: q,
    permission_denials: [],
    events: [],
    turns: 1,
    cost_usd: 0,
    tokens: { input: 0, output: 0 },
  } as unknown as TaskView;
}

describe('a permission request from an older server (no input_text)', () => {
  const expected = decisionText('Bash', input, DECISION_MAX_CHARS);

  it('shows its input on the board, rendered as the server would', () => {
    const src = { kind: 'http', canStart: false, canMerge: false } as unknown as Source;
    const act = { answer: () => undefined, kill: () => undefined, merge: () => undefined, follow: () => undefined };
    const events = new FakeNode('div') as unknown as HTMLElement;
    const el = renderTask({ view: olderView() } as Detail, src, act as never, events) as unknown as FakeNode;
    expect(expected).toContain('"command":"rm -rf build\\u{202e} # done"');
    expect(el.find('permission-input')?.textContent).toBe(expected);
  });

  it("shows its input in the tool result's text", () => {
    expect(viewText(olderView())).toContain(`needs input: permission for Bash ${expected};`);
  });
});
