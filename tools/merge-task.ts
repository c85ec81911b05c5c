import { z } from 'zod';
import { defineTool } from './define-tool.js';
import { TaskIdField } from './fields.js';

// Brings a finished task's branch back into the user's branch, without touching uncommitted work.
export const mergeTaskTool = defineTool({
  name: 'merge_task',
  title: 'Merge task',
  description:
    'Merge the branch of a finished deep_task that ran with isolation "worktree" into a branch of its repository. ' +
    "The merge is worked out in git's object store: a conflict changes nothing and names the files; a target branch " +
    'checked out with uncommitted changes is refused (naming them); a clean checkout is advanced; a branch ' +
    'not checked out moves by compare-and-swap. strategy "merge" makes a merge commit, "squash" one commit. ' +
    'A branch that adds or changes tool configuration (a .claude/settings.json hook, .mcp.json, git hooks) ' +
    'is refused unless allow_tool_config is true.',
  inputSchema: z.strictObject({
    task_id: TaskIdField,
    strategy: z
      .enum(['merge', 'squash'], { error: 'strategy must be "merge" or "squash"' })
      .default('merge')
      .describe('"merge": a merge commit with the task\'s history; "squash": one commit on the target.'),
    into: z
      .string({ error: 'into must be a branch name such as "main"' })
      .min(1, 'into must not be empty; omit it to merge into the checked-out branch')
      .max(200, 'into is too long')
      .optional()
      .describe('The branch to merge into; default: the branch checked out in the repository.'),
    allow_tool_config: z
      .boolean({ error: 'allow_tool_config must be true or false' })
      .default(false)
      .describe(
        'Merge even when the branch adds or changes tool configuration (.claude/, .mcp.json, .githooks/, .husky/, ' +
          '.envrc, .vscode/ at any depth), which your tools run commands from; without it such a merge is refused, ' +
          'naming the files.',
      ),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
  usage:
    'merge_task takes { task_id: "t_..." (required), strategy?: "merge" | "squash", into?: "main", ' +
    'allow_tool_config?: true }',
  handle: (input, ctx) =>
    ctx.tasks.merge(input.task_id, {
      strategy: input.strategy,
      into: input.into,
      allowToolConfig: input.allow_tool_config,
      viewer: ctx.viewer,
      by: `merge_task (${ctx.clientId})`,
    }),
});
