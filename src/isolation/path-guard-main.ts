import { guardDecision, type GuardScope } from './path-guard.js';

// claude's PreToolUse hook for a sandboxed run's file tools (see guardHooks): reads the hook input on stdin, prints a
// deny decision for a path the sandbox hides. Any failure exits 2, which claude takes as "block this call".
async function main(): Promise<void> {
  const scope = JSON.parse(Buffer.from(process.argv[2] ?? '', 'base64url').toString('utf8')) as GuardScope;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const hook = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
    tool_name?: string;
    tool_input?: unknown;
    cwd?: string;
  };
  const reason = guardDecision(
    scope,
    String(hook.tool_name),
    hook.tool_input,
    hook.cwd || process.cwd(),
    process.env.HOME,
  );
  if (!reason) return;
  const decision = { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: reason };
  process.stdout.write(JSON.stringify({ hookSpecificOutput: decision }));
}

main().catch((err: unknown) => {
  process.stderr.write(`claude-tiers path guard: ${(err as Error)?.message ?? String(err)}; call blocked\n`);
  process.exit(2);
});
