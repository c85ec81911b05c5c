import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { UserContent } from '../claude/control.js';
import { redisOptions } from './redis-conn.js';

const QUEUE = 'tasks';

// A job of the shared queue: the task's id, and what claude is sent when it is more than the prompt (images).
interface JobData {
  id: string;
  content?: UserContent;
}

// The shared queue, BullMQ's: any server adds a task, each server's worker takes up to its own concurrency. A job is
// tried once, and one whose worker died is never run again (maxStalledCount 0): the claim in the task's record
// decides who runs a task, and a dead runner's task is declared lost, not retried.
export class JobQueue {
  private readonly queue: Queue;
  private worker: Worker<JobData> | undefined;

  constructor(
    private readonly url: string,
    private readonly prefix: string,
  ) {
    this.queue = new Queue(QUEUE, { connection: redisOptions(url) as ConnectionOptions, prefix: `${prefix}:q` });
    this.queue.on('error', () => {});
  }

  ready(): Promise<unknown> {
    return this.queue.waitUntilReady().catch(() => undefined);
  }

  async add(id: string, content?: UserContent): Promise<void> {
    await this.queue.add('task', { id, ...(content && typeof content !== 'string' ? { content } : {}) }, { jobId: id, attempts: 1, removeOnComplete: true, removeOnFail: 1000 });
  }

  waiting(): Promise<number> {
    return this.queue.getWaitingCount();
  }

  // Takes a job out of the queue (a task killed while it waited); a job a worker holds stays.
  async remove(id: string): Promise<void> {
    await this.queue.remove(id).catch(() => 0);
  }

  serve(concurrency: number, run: (id: string, content?: UserContent) => Promise<void>): void {
    const options = { connection: redisOptions(this.url, true) as ConnectionOptions, prefix: `${this.prefix}:q`, concurrency, maxStalledCount: 0 };
    this.worker = new Worker<JobData>(QUEUE, (job) => run(job.data.id, job.data.content), options);
    this.worker.on('error', () => {});
  }

  // Takes no more jobs, then closes.
  async close(): Promise<void> {
    await this.worker?.close(true).catch(() => {});
    await this.queue.close().catch(() => {});
  }
}
