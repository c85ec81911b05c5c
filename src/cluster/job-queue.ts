import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { UserContent } from '../claude/control.js';
import { redisOptions } from './redis-conn.js';
export { HandBack } from './hand-back.js';

const QUEUE = 'tasks';
// A job a worker hands back (shutting down, or unable to run it here) is tried again on any worker a second later.
const ATTEMPTS = 5;
const RETRY_MS = 1000;


// A job of the shared queue: the task's id, and what claude is sent when it is more than the prompt (images).
interface JobData {
  id: string;
  content?: UserContent;
}

// The shared queue, BullMQ's: any server adds a task, each server's worker takes up to its own concurrency. A job may
// be delivered again (handed back, or its worker died before it claimed the task): the claim in the task's record
// decides who runs a task, once, and a dead runner's task is declared lost, never run again.
export class JobQueue {
  private readonly queue: Queue;
  private worker: Worker<JobData> | undefined;
  private closing: Promise<void> | undefined;

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
    const opts = { jobId: id, attempts: ATTEMPTS, backoff: { type: 'fixed', delay: RETRY_MS }, removeOnComplete: true, removeOnFail: 1000 };
    await this.queue.add('task', { id, ...(content && typeof content !== 'string' ? { content } : {}) }, opts);
  }

  waiting(): Promise<number> {
    return this.queue.getWaitingCount();
  }

  // Takes a job out of the queue (a task killed while it waited); a job a worker holds stays.
  async remove(id: string): Promise<void> {
    await this.queue.remove(id).catch(() => 0);
  }

  // Whether a task still has a job in the queue (waiting, delayed or held by a worker).
  async hasJob(id: string): Promise<boolean> {
    return ['waiting', 'delayed', 'active', 'prioritized', 'waiting-children'].includes(await this.queue.getJobState(id));
  }

  // Adds the job of a task again after its old one ended without running it.
  async readd(id: string): Promise<void> {
    await this.queue.remove(id).catch(() => 0);
    await this.add(id);
  }

  // `run` gets whether this is the job's last try (a task no worker could take ends then, with the reason).
  serve(concurrency: number, run: (id: string, content: UserContent | undefined, lastTry: boolean) => Promise<void>): void {
    const options = { connection: redisOptions(this.url, true) as ConnectionOptions, prefix: `${this.prefix}:q`, concurrency, maxStalledCount: 1 };
    this.worker = new Worker<JobData>(QUEUE, (job) => run(job.data.id, job.data.content, job.attemptsMade + 1 >= (job.opts.attempts ?? 1)), options);
    this.worker.on('error', () => {});
  }

  // Takes no more jobs (a server that shuts down frees its slots without taking the next job).
  stopTaking(): void {
    this.closing ??= this.worker?.close().catch(() => {});
  }

  async close(): Promise<void> {
    this.stopTaking();
    await Promise.race([this.closing, new Promise((r) => setTimeout(r, 2000).unref())]);
    await this.worker?.close(true).catch(() => {});
    await this.queue.close().catch(() => {});
  }
}
