import { launchCommand } from './launch-command.js';

// The text of `claude-tiers --help`; the last lines name the command that starts this very copy.
export const helpText = (): string =>
  `claude-tiers: Claude Code as tiered MCP tools

Usage:
  claude-tiers [serve] [options]     run the MCP server on stdio (what an MCP client starts)
  claude-tiers serve --http HOST:PORT   the same tools over Streamable HTTP at http://HOST:PORT/mcp; every request needs
                                     Authorization: Bearer TOKEN (httpToken in your config or $CLAUDE_TIERS_HTTP_TOKEN,
                                     at least 16 characters; else one is generated and printed at start-up); the board
                                     (a web page of your tasks) is at http://HOST:PORT/
  claude-tiers serve --board-port PORT   stdio server plus the board at http://127.0.0.1:PORT/ (loopback only)
  claude-tiers ask "question" [--tier T] [--model M] [--json]   one quick answer on stdout
  claude-tiers run "task" [--tier T] [--json]     a deep task with a live progress line; result on stdout
  claude-tiers tasks [--watch] [--state running,queued] [--json]   tasks in the state dir (live with --watch)
  claude-tiers kill TASK_ID          kill a task (asks the server that owns it)
  claude-tiers merge TASK_ID [--squash] [--into BRANCH] [--allow-tool-config]
                                     merge a finished worktree task's branch (see merge_task)
  claude-tiers answer TASK_ID allow|deny [--message M] [--request P]   answer a task's permission request ` +
  `(state needs_input),
                                     from any terminal (run in a terminal asks you itself)
  claude-tiers setup claude-code|claude-desktop|codex [--write]   print the client's entry for this copy, or add it
  claude-tiers compare --tiers A,B --prompts FILE.jsonl [--runs N] [--out DIR]   A/B comparison of two tiers:
                                     table on stdout, compare.json + report.html in DIR (default ./compare-<time>)
  claude-tiers doctor [--json]       check claude, auth, config, containment, MCP servers and the state dir
  claude-tiers --print-config        show the effective config and where each value came from
  claude-tiers --help | --version

Tools served:
  quick_answer   speed tier: fast model, minimal context, synchronous answer
  deep_task      comprehensive tier: long task in the background, returns a task id
  task_status    state, progress, partial output and result of tasks (long-poll)
  list_tasks     recent tasks, newest first
  kill_task      stop a task and every process it started
  answer_task    allow or deny a task's permission request
  merge_task     merge a finished worktree task's branch into a branch of its repository
  server_stats   counters: tasks, claude processes, warm spares, cache, circuit breakers, memory
  compare_tiers  A/B comparison of two tiers on a list of prompts, in the background
  compare_status progress and results of a comparison

Options:
  --config FILE        your config file (else $CLAUDE_TIERS_CONFIG, else $XDG_CONFIG_HOME/claude-tiers/config.json);
                       ./claude-tiers.config.json of a project may only tune tiers and limits (see --print-config)
  --state-dir DIR      where tasks are kept (else $CLAUDE_TIERS_STATE_DIR,
                       $XDG_STATE_HOME/claude-tiers, ~/.local/state/claude-tiers)
  --claude-bin PATH    claude to run (else $CLAUDE_TIERS_CLAUDE_BIN, claude on PATH,
                       the package's own node_modules/.bin/claude)
  --root DIR           allowed working directory root (repeatable; default: the current directory)
  --max-running N      tasks running at once (default 4); --max-queue N queued tasks (default 100)
  --redis URL          several servers share one task queue and store in Redis (else $CLAUDE_TIERS_REDIS_URL); any
                       server accepts, answers for and kills any task; each runs up to its own --max-running
  --metrics-port PORT  Prometheus metrics at http://127.0.0.1:PORT/metrics, loopback only, no token (0: a free port;
                       in serve --http mode GET /metrics also answers on the server itself, with the token)
  --log-level LEVEL    fatal|error|warn|info|debug|trace|silent (else $CLAUDE_TIERS_LOG_LEVEL; logs go to stderr)

Add it to Claude Code (or: claude-tiers setup claude-code --write):
  claude mcp add claude-tiers -- ${launchCommand()}
  claude -p has no one to approve a tool: allow them with --allowedTools=mcp__claude-tiers (prompt on stdin)
  or "mcp__claude-tiers" in permissions.allow of ~/.claude/settings.json
`;
