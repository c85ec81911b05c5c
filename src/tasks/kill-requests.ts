import { mkdir, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const KILL_POLL_MS = 1000;

// Another process (the CLI's `kill`, a server on the same state dir) asks the owner of a task to kill it: a file in <state>/kill-requests/.
export async function requestKill(stateDir: string, id: string, by: string): Promise<void> {
  const dir = join(stateDir, 'kill-requests');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, id), by, { mode: 0o600 });
}

// Acts on the kill requests for tasks this server runs, once a second; returns the stop of the poll.
export function watchKillRequests(stateDir: string, owns: (id: string) => boolean, kill: (id: string, by: string) => void): () => void {
  const dir = join(stateDir, 'kill-requests');
  const take = async () => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    for (const id of names) {
      if (!owns(id)) continue;
      const by = await readFile(join(dir, id), 'utf8').catch(() => 'another process');
      await unlink(join(dir, id)).catch(() => {});
      kill(id, `${by.slice(0, 100)} (kill request)`);
    }
  };
  const timer = setInterval(() => void take(), KILL_POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
