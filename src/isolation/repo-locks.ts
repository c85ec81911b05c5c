// Serializes git operations that change one repository's worktree list (add, remove, prune), one repository at a
// time; the engine owns one instance, so there is no module-level state and tests get their own.
export class RepoLocks {
  private readonly tails = new Map<string, Promise<void>>();

  // Runs fn once every earlier fn for the same repository (its common git dir) has settled.
  async with<T>(repo: string, fn: () => Promise<T>): Promise<T> {
    const before = this.tails.get(repo) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    const tail = before.then(() => mine);
    this.tails.set(repo, tail);
    try {
      await before;
      return await fn();
    } finally {
      done();
      if (this.tails.get(repo) === tail) this.tails.delete(repo);
    }
  }

  // Repositories with an operation running or waiting (for tests and logs).
  busy(): string[] {
    return [...this.tails.keys()];
  }

  // The task working in each folder under <stateDir>/worktrees (by folder name), in this process: the follow-ups of
  // one task share its folder, and the first to end would commit and remove it under the other.
  private readonly folders = new Map<string, string>();

  // The task that holds a folder now, if any.
  folderHolder(dir: string): string | undefined {
    return this.folders.get(dir);
  }

  // Takes a folder for one task: its release (idempotent), or the task that holds it already.
  holdFolder(dir: string, taskId: string): { release: () => void } | { heldBy: string } {
    const holder = this.folders.get(dir);
    if (holder && holder !== taskId) return { heldBy: holder };
    this.folders.set(dir, taskId);
    return {
      release: () => {
        if (this.folders.get(dir) === taskId) this.folders.delete(dir);
      },
    };
  }
}
