#!/usr/bin/env node
// A stand-in for claude, only for what the real binary cannot be pushed into. FAKE_CLAUDE_MODE picks the misbehaviour.
import { writeSync } from 'node:fs';

const mode = process.env.FAKE_CLAUDE_MODE ?? 'garbage';
const out = (obj) => writeSync(1, `${typeof obj === 'string' ? obj : JSON.stringify(obj)}\n`);
const init = {
  type: 'system',
  subtype: 'init',
  session_id: '00000000-0000-4000-8000-000000000000',
  model: 'fake',
  tools: [],
  mcp_servers: [],
};
const result = (text) => ({
  type: 'result',
  subtype: 'success',
  is_error: false,
  result: text,
  num_turns: 1,
  duration_ms: 5,
  session_id: init.session_id,
  total_cost_usd: 0,
  usage: { input_tokens: 1, output_tokens: 1 },
});

if (mode === 'garbage') {
  out(init);
  out('this is not json');
  out('{"type": "assistant", "message": 42}');
  out('[1,2,3]');
  out({ type: 'brand_new_event_type', data: 1 });
  out(result('survived the garbage'));
  process.exit(0);
}
if (mode === 'huge-line') {
  out(init);
  const chunk = 'x'.repeat(1024 * 1024);
  writeSync(1, '{"type":"assistant","message":{"content":[{"type":"text","text":"');
  for (let i = 0; i < 50; i++) writeSync(1, chunk);
  writeSync(1, '"}]}}\n');
  out(result('after the huge line'));
  process.exit(0);
}
if (mode === 'crash') {
  out(init);
  out({ type: 'assistant', message: { id: 'm1', content: [{ type: 'text', text: 'partial work before the crash' }] } });
  // Killed from outside by the test (a contained claude is pid 1 of its namespace: it cannot SIGKILL itself).
  setInterval(() => {}, 1000);
}
if (mode === 'ignore-term') {
  process.on('SIGTERM', () => {});
  process.on('SIGINT', () => {});
  out(init);
  out({
    type: 'assistant',
    message: { id: 'm1', content: [{ type: 'tool_use', id: 't1', name: 'Bash', input: { command: 'stubborn' } }] },
  });
  setInterval(() => {}, 1000);
}
if (mode === 'flood') {
  out(init);
  const text = 'y'.repeat(64 * 1024);
  let n = 0;
  const tick = () => {
    for (let i = 0; i < 64; i++)
      out({ type: 'assistant', message: { id: `m${n++}`, content: [{ type: 'text', text }] } });
    setImmediate(tick);
  };
  tick();
}
