import { z } from 'zod';

const str = z.string();

// A task's git worktree while it runs (isolation "worktree"), kept in its record so recovery can finish it.
export const WorktreeSchema = z.object({
  taskId: str,
  path: str,
  branch: str,
  baseCommit: str,
  repoRoot: str,
  /** The repository's common git dir: the key of its lock, and where the server writes the task's branch. */
  gitDir: str,
  /** The task's cwd inside the worktree: the same subdirectory of the repository as the cwd asked for. */
  cwdInWorktree: str,
  /** False when a follow-up task re-opened an earlier task's branch: then the branch is never deleted. */
  createdBranch: z.boolean(),
  /** A linked worktree's own git dir (<common>/worktrees/<name>), as the server found it before the task ran. */
  adminDir: str.optional(),
  /** "clone": a repository of its own (objects shared read-only from the user's), whose .git lies in the task's
   * folder, so a sandboxed task writes nothing of the user's repository; absent: a linked `git worktree`. */
  kind: z.enum(['worktree', 'clone']).optional(),
});
export type Worktree = z.infer<typeof WorktreeSchema>;

// What a task's worktree left behind, as the task's result and task_status carry it.
export const WorktreeSummarySchema = z.object({
  /** The branch holding the task's work; null when the task changed nothing and its branch was deleted. */
  branch: str.nullable(),
  base_commit: str,
  head_commit: str,
  changed_files: z.array(str),
  diffstat: str,
  /** Only when the worktree was kept (keep_worktree). */
  path: str.optional(),
  /** The task pointed its HEAD away from its branch (what HEAD named instead); the server still wrote only its
   * branch. */
  head_moved: str.optional(),
  /** Paths the server did not commit: nested git repositories (never entered), and the like. */
  not_committed: z.array(str).optional(),
  /** The task's own commits that were not taken (e.g. a clone's branch that does not descend from the base). */
  warnings: z.array(str).optional(),
});
export type WorktreeSummary = z.infer<typeof WorktreeSummarySchema>;
