import type { Config } from '../config/schema.js';
import { createEngine } from '../create-engine.js';
import type { Engine } from '../engine.js';
import { createLogger } from '../log.js';
import { questionLine, questionParts, shown } from '../claude/decision-text.js';
import { ToolError } from '../errors.js';
import { formatProgress } from '../tasks/progress.js';
import { isFinal, LOCAL_PRINCIPAL, type TaskRecord, type TaskState } from '../tasks/types.js';
import { askPermission } from './permission-prompt.js';
import { answerOut, printOut } from './output.js';
import { tasksTable } from './tasks-table.js';

type Opts = Record<string, string | boolean>;
// The CLI acts as the local user: it sees the local tasks, not those of HTTP tokens.
const LOCAL = { principal: LOCAL_PRINCIPAL, admin: false };
const isTty = () => process.stderr.isTTY === true;

async function withEngine<T>(config: Config, fn: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await createEngine(
    { ...config, logLevel: config.logLevel === 'info' ? 'warn' : config.logLevel },
    createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel),
  );
  try {
    return await fn(engine);
  } finally {
    await engine.dispose('cli finished');
  }
}

// A failed command is one line on stderr and exit code 1; a stack trace only with CLAUDE_TIERS_LOG_LEVEL=debug. The
// line is shown escaped: an error may quote a task's or a model's text, and a terminal must never act on it.
const fail = (err: unknown): number => {
  const debug = /^(debug|trace)$/.test(process.env.CLAUDE_TIERS_LOG_LEVEL ?? '') && !(err instanceof ToolError);
  const message = (err as Error)?.message ?? String(err);
  const text = debug ? ((err as Error).stack ?? message) : message.replace(/\s*\n\s*/g, ' ');
  const line = text.split('\n').map(shown).join('\n');
  process.stderr.write(`claude-tiers: ${line}\n`);
  return 1;
};

// `claude-tiers ask "..."`: one quick answer on stdout.
export async function askCommand(config: Config, words: string[], opts: Opts): Promise<number> {
  const prompt = words.join(' ');
  if (!prompt.trim()) return fail(new ToolError('ask needs a prompt: claude-tiers ask "your question"'));
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  return withEngine(config, async (engine) => {
    try {
      const answer = await engine.quick(
        {
          prompt,
          tier: typeof opts.tier === 'string' ? opts.tier : undefined,
          model: typeof opts.model === 'string' ? opts.model : undefined,
        },
        controller.signal,
      );
      printOut(opts.json ? JSON.stringify(answer) : answerOut(answer.answer, !!process.stdout.isTTY));
      return 0;
    } catch (err) {
      return fail(err);
    }
  });
}

// `claude-tiers run "..."`: a deep task with a live progress line on stderr, the result on stdout; Ctrl-C kills it.
export async function runCommand(config: Config, words: string[], opts: Opts): Promise<number> {
  const prompt = words.join(' ');
  if (!prompt.trim()) return fail(new ToolError('run needs a prompt: claude-tiers run "your task"'));
  return withEngine(config, async (engine) => {
    const tasks = engine.registry;
    let id: string;
    try {
      // The same start as deep_task's: with --redis the task goes through the shared queue to whichever server takes
      // it.
      const started = await tasks.start(
        { prompt, tier: typeof opts.tier === 'string' ? opts.tier : undefined, clientId: 'cli' },
        { viewer: LOCAL },
      );
      id = started.structured.task_id;
    } catch (err) {
      return fail(err);
    }
    const record = () => tasks.peek(id);
    process.once('SIGINT', () => void tasks.kill(id, 'cli (Ctrl-C)').catch(() => undefined));
    let last = '';
    let asking = false;
    const show = () => {
      const rec = record();
      if (asking || !rec) return;
      const line = `${id} · ${formatProgress(rec, Date.now(), tasks.writingOf(id))}`;
      if (line === last) return;
      last = line;
      if (opts.json) return;
      if (isTty()) process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns ?? 120) - 1)}`);
      else process.stderr.write(`${line}\n`);
    };
    // In a terminal a permission request is asked here; the answer takes answer_task's path (or another terminal's
    // `claude-tiers answer`, whichever comes first).
    let hinted = '';
    const ask = () => {
      const rec = record();
      const open = rec?.state === 'needs_input' ? rec.inputRequest : undefined;
      if (!open || asking || opts.json) return;
      if (!process.stdin.isTTY || !isTty()) {
        // No one to ask here: say once per request how to answer from elsewhere.
        const how = `answer with: claude-tiers answer ${id} allow|deny [--message M]`;
        if (hinted !== open.request_id)
          process.stderr.write(`${id} waits for permission to run ${questionParts(open).tool}; ${how}\n`);
        hinted = open.request_id;
        return;
      }
      asking = true;
      void askPermission(id, open, () => record()?.inputRequest?.request_id !== open.request_id)
        .then(async (answer) => {
          if (!answer) return;
          await tasks.answer(id, open.request_id, { ...answer, by: 'cli (terminal)' }, LOCAL).catch(fail);
        })
        .finally(() => {
          asking = false;
          last = '';
          show();
        });
    };
    const tick = () => {
      show();
      ask();
    };
    const off = tasks.watch(id, tick);
    const timer = setInterval(tick, 1000);
    tick();
    while (!(await tasks.wait([id], () => isFinal(record()?.state ?? 'lost'), 60_000)));
    // A task run here has ended; its run still makes its last writes.
    await tasks.done(id);
    off();
    clearInterval(timer);
    if (isTty() && !opts.json) process.stderr.write('\n');
    const reply = await tasks.reply(id, { tail: 0 });
    const view = reply.structured;
    if (opts.json) printOut(JSON.stringify(view));
    else if (view.state === 'succeeded') printOut(answerOut(view.result?.text || reply.text, !!process.stdout.isTTY));
    else fail(new ToolError(`task ${id} ${view.state}: ${view.end?.message ?? 'no reason recorded'}`));
    return view.state === 'succeeded' ? 0 : 1;
  });
}

// `claude-tiers answer ID allow|deny [--message M]`: answers the task's open permission request, here or in the
// server that runs it (through the state dir), as answer_task would.
export async function answerCommand(config: Config, words: string[], opts: Opts): Promise<number> {
  const [id, decision] = words as [string, 'allow' | 'deny'];
  const message = typeof opts.message === 'string' ? opts.message : undefined;
  return withEngine(config, async (engine) => {
    try {
      const rec = await engine.registry.get(id, LOCAL);
      const open = rec.state === 'needs_input' ? rec.inputRequest : undefined;
      if (!open)
        throw new ToolError(`task ${id} waits on no permission request (state ${rec.state}); see claude-tiers tasks`);
      // --request pins the answer to the request the person saw: a newer one is never answered unseen.
      const asked = typeof opts.request === 'string' ? opts.request : undefined;
      if (asked && asked !== open.request_id) {
        const tool = questionParts(open).tool;
        throw new ToolError(
          `task ${id} waits on request ${open.request_id} (${tool}), not ${asked}; nothing was answered`,
        );
      }
      const reply = await engine.registry.answer(id, open.request_id, { decision, message, by: 'cli answer' }, LOCAL);
      const now = reply.structured.state;
      printOut(`${id} ${decision === 'allow' ? 'allowed' : 'denied'} ${questionLine(open, 240)}; now ${now}`);
      return 0;
    } catch (err) {
      return fail(err);
    }
  });
}

// `claude-tiers tasks [--watch] [--state S] [--json]`: the tasks, newest first.
export async function tasksCommand(config: Config, opts: Opts): Promise<number> {
  // A task waiting for permission is still running: --state running shows it too.
  const asked = typeof opts.state === 'string' ? (opts.state.split(',') as TaskState[]) : undefined;
  const states =
    asked?.includes('running') && !asked.includes('needs_input') ? [...asked, 'needs_input' as TaskState] : asked;
  const limit = 30;
  // The same listing as list_tasks: the state dir's tasks, or in a cluster those of every server.
  return withEngine(config, (engine) =>
    showTasks(() => engine.registry.list({ state: states, limit, viewer: LOCAL }), config, opts),
  );
}

async function showTasks(load: () => Promise<TaskRecord[]>, config: Config, opts: Opts): Promise<number> {
  if (opts.json) {
    printOut(JSON.stringify(await load()));
    return 0;
  }
  if (!opts.watch) {
    printOut(tasksTable(await load(), Date.now(), process.stdout.columns ?? 160));
    return 0;
  }
  const draw = async () => {
    const table = tasksTable(await load().catch(() => []), Date.now(), process.stdout.columns ?? 160);
    process.stdout.write(
      `\x1b[H\x1b[2J${new Date().toLocaleTimeString()}  claude-tiers tasks (${config.stateDir})  Ctrl-C to ` +
        `quit\n\n${table}\n`,
    );
  };
  await draw();
  const timer = setInterval(() => void draw(), 1000);
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  clearInterval(timer);
  return 0;
}

// `claude-tiers kill ID`: asks the server that owns the task to kill it (or kills a task whose server is gone).
export async function killCommand(config: Config, words: string[]): Promise<number> {
  const id = words[0];
  if (!id) return fail(new ToolError('kill needs a task id: claude-tiers kill t_...'));
  return withEngine(config, async (engine) => {
    const rec = engine.registry.visible(id, LOCAL, await engine.registry.record(id));
    if (!rec) return fail(new ToolError(`no task ${id}; ${await engine.registry.recentIdsHint(LOCAL)}`));
    if (isFinal(rec.state)) {
      printOut(`${id} already ${rec.state}`);
      return 0;
    }
    await engine.registry.cancel(id, 'cli');
    const done = await engine.registry.wait([id], () => isFinal(engine.registry.peek(id)?.state ?? 'lost'), 15_000);
    const after = engine.registry.peek(id);
    printOut(`${id} ${after?.state ?? 'unknown'}${done ? '' : ' (still stopping)'}`);
    return done ? 0 : 1;
  });
}

// `claude-tiers merge ID [--squash] [--into BRANCH] [--allow-tool-config]`: merge_task from a terminal; the outcome on
// stdout, a refusal (conflict, uncommitted work in the way) as one line on stderr and exit 1.
export async function mergeCommand(
  config: Config,
  words: string[],
  options: Record<string, string | boolean>,
): Promise<number> {
  const into = typeof options.into === 'string' ? options.into : undefined;
  return withEngine(config, async (engine) => {
    try {
      const strategy = options.squash === true ? 'squash' : 'merge';
      const allowToolConfig = options['allow-tool-config'] === true;
      const opts = { strategy, into, allowToolConfig, viewer: LOCAL, by: 'cli' } as const;
      const reply = await engine.registry.merge(words[0]!, opts);
      if (reply.isError) return fail(new ToolError(reply.text.replace(/^merge_task: /, '')));
      printOut(reply.text);
      return 0;
    } catch (err) {
      return fail(err);
    }
  });
}
