import { mkdir, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InputAnswer } from '../input-requests.js';
import type { LiveTask } from '../live-task.js';
import { isFinal } from '../types.js';

const POLL_MS = 1000;
const KILLS = 'kill-requests';
const ANSWERS = 'answer-requests';
const ID = /^[A-Za-z0-9_-]{1,64}$/;

async function leave(stateDir: string, folder: string, name: string, text: string): Promise<void> {
  const dir = join(stateDir, folder);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, name), text, { mode: 0o600 });
}

// Another process (the CLI's `kill`, a server on the same state dir) asks the owner of a task to kill it: a file in
// <state>/kill-requests/.
export const requestKill = (stateDir: string, id: string, by: string): Promise<void> => leave(stateDir, KILLS, id, by);

// Another process (the CLI's `answer`) gives the owner of a task the answer to its open permission request: a file
// <task>.<request> in <state>/answer-requests/, taken by the owner like a kill request.
export const requestAnswer = (stateDir: string, id: string, requestId: string, answer: InputAnswer): Promise<void> =>
  leave(stateDir, ANSWERS, `${id}.${requestId}`, JSON.stringify(answer));

// Takes the requests left for the tasks `owns` says this process runs (read, then removed); others are left alone.
type Act = (name: string, text: string) => void;
async function take(dir: string, owns: (id: string) => boolean, act: Act): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!owns(name.split('.')[0]!)) continue;
    const text = await readFile(join(dir, name), 'utf8').catch(() => '');
    await unlink(join(dir, name)).catch(() => {});
    act(name, text);
  }
}

function parseAnswer(text: string): InputAnswer | undefined {
  try {
    const a = JSON.parse(text) as Partial<InputAnswer>;
    if (a.decision !== 'allow' && a.decision !== 'deny') return undefined;
    const by = String(a.by ?? 'another process').slice(0, 100);
    const message = typeof a.message === 'string' ? { message: a.message.slice(0, 2000) } : {};
    return { decision: a.decision, by, ...message };
  } catch {
    return undefined;
  }
}

// Acts on the kill and answer requests for the tasks this server runs (`live`, not final), once a second: a kill
// through `kill`, an answer straight to the task's open question; returns the stop of the poll.
export function watchOwnerRequests(
  stateDir: string,
  live: (id: string) => LiveTask | undefined,
  kill: (id: string, by: string) => void,
): () => void {
  const owns = (id: string) => {
    const t = live(id);
    return !!t && !isFinal(t.record.state);
  };
  const poll = async () => {
    await take(join(stateDir, KILLS), owns, (id, by) => {
      kill(id, `${(by || 'another process').slice(0, 100)} (kill request)`);
    });
    await take(join(stateDir, ANSWERS), owns, (name, text) => {
      const [id, requestId] = name.split('.');
      const answer = parseAnswer(text);
      if (id && requestId && ID.test(requestId) && answer) live(id)?.inputs.answer(requestId, answer);
    });
  };
  const timer = setInterval(() => void poll(), POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
