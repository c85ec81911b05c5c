import type { TaskViews } from '../shapes/tool-outputs.js';
import type { ProgressSend } from './progress-pump.js';
import { isFinal, type TaskRecord, type Viewer } from './types.js';
import type { TaskReply } from './view.js';

// task_status over several tasks: the finished ones and each task's reply.
export interface ManyReply {
  text: string;
  structured: TaskViews;
  links: TaskReply['links'];
}

// What statusMany needs of the task service.
export interface TaskSource {
  get(id: string, viewer?: Viewer): Promise<TaskRecord>;
  peek(id: string): TaskRecord | undefined;
  wait(ids: string[], ready: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  reply(id: string, opts: { tail?: number; viewer?: Viewer }): Promise<TaskReply>;
}

// Several tasks at once, after waiting up to waitS for any or all of them to finish.
export async function statusMany(
  source: TaskSource,
  ids: string[],
  opts: {
    viewer?: Viewer;
    waitS?: number;
    signal?: AbortSignal;
    progress?: ProgressSend;
    waitFor?: 'any' | 'all';
    tail?: number;
  },
): Promise<ManyReply> {
  for (const id of ids) await source.get(id, opts.viewer);
  if ((opts.waitS ?? 0) > 0) {
    const done = (id: string) => isFinal(source.peek(id)?.state ?? 'lost');
    await source.wait(
      ids,
      () => (opts.waitFor === 'all' ? ids.every(done) : ids.some(done)),
      opts.waitS! * 1000,
      opts.signal,
    );
  }
  const replies = await Promise.all(ids.map((id) => source.reply(id, { tail: opts.tail, viewer: opts.viewer })));
  const views = replies.map((r) => r.structured);
  const finished = views.filter((v) => v.final).map((v) => v.task_id);
  const text = [`${finished.length}/${views.length} finished`, ...replies.map((r) => r.text)].join('\n\n');
  return { text, structured: { finished, tasks: views }, links: replies.flatMap((r) => r.links) };
}
