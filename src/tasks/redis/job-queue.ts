import { DelayedError, Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { redisOptions } from '../../cluster/redis-conn.js';
import { HandBack } from './hand-back.js';

const QUEUE = 'tasks';
// A job whose run fails (Redis errors) is tried up to 5 times; a job a worker hands back (shutting down, or unable
// to run it here now) waits a second and goes to any worker again, without using up a try.
const ATTEMPTS = 5;
const RETRY_MS = 1000;

// What a job's run is told besides the task: when the job was queued.
export interface JobInfo {
  queuedAt: number;
}

// A job of the shared queue: the task's id (its record, and what claude is sent, are in Redis with the task).
interface JobData {
  id: string;
}

// The shared queue, BullMQ's: any server adds a task, each server's worker takes up to its own concurrency. A job may
// be delivered again (handed back, or its worker died before it claimed the task): the claim in the task's record
// decides who runs a task, once, and a dead runner's task is declared lost, never run again.
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

  // priority: the fair-share order (QueueShares); 1 goes first, equal priorities in arrival order.
  async add(id: string, priority = 1): Promise<void> {
    const opts = {
      jobId: id,
      priority,
      attempts: ATTEMPTS,
      backoff: { type: 'fixed', delay: RETRY_MS },
      removeOnComplete: true,
      removeOnFail: 1000,
    };
    await this.queue.add('task', { id }, opts);
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
    return ['waiting', 'delayed', 'active', 'prioritized', 'waiting-children'].includes(
      await this.queue.getJobState(id),
    );
  }

  // Adds the job of a task again after its old one ended without running it.
  async readd(id: string): Promise<void> {
    await this.queue.remove(id).catch(() => 0);
    await this.add(id);
  }

  // Runs one job; a HandBack delays it a second (without using a try).
  private async process(
    job: Job<JobData>,
    token: string | undefined,
    run: (id: string, info: JobInfo) => Promise<void>,
  ): Promise<void> {
    try {
      await run(job.data.id, { queuedAt: job.timestamp });
    } catch (err) {
      if (!(err instanceof HandBack) || !token) throw err;
      await job.moveToDelayed(Date.now() + RETRY_MS, token);
      throw new DelayedError();
    }
  }

  serve(concurrency: number, run: (id: string, info: JobInfo) => Promise<void>): void {
    const options = {
      connection: redisOptions(this.url, true) as ConnectionOptions,
      prefix: `${this.prefix}:q`,
      concurrency,
      maxStalledCount: 1,
    };
    this.worker = new Worker<JobData>(QUEUE, (job, token) => this.process(job, token, run), options);
    this.worker.on('error', () => {});
  }

  // Takes no more jobs (a server that shuts down frees its slots without taking the next job).
  stopTaking(): void {
    void this.worker?.pause(true).catch(() => {});
  }

  // Its tasks were stopped by now: the worker closes without waiting on their jobs (a job it still held comes back
  // through the stalled check, and its claimed task is never run again).
  async close(): Promise<void> {
    await this.worker?.close(true).catch(() => {});
    await this.queue.close().catch(() => {});
  }
}
