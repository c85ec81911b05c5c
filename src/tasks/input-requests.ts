import { ToolError } from '../errors.js';
import type { InputAnswer, InputRequest } from '../shapes/input-request.js';

// The question and answer shapes live in src/shapes.
export type { InputAnswer, InputRequest };

const REMEMBER_ANSWERED = 100;

// The questions a task waits on: asked by its run, answered once (answer_task, tasks/update, an elicitation), denied
// at the deadline or when the task ends.
export class PendingInputs {
  private readonly waiting = new Map<string, { request: InputRequest; settle: (a: InputAnswer) => void }>();
  private readonly answered: string[] = [];

  get size(): number {
    return this.waiting.size;
  }

  // The oldest question still open.
  current(): InputRequest | undefined {
    return this.waiting.values().next().value?.request;
  }

  // Waits for the answer; no answer by the deadline, or the signal (the run ended), is a denial that says why.
  ask(request: InputRequest, timeoutMs: number, signal: AbortSignal): Promise<InputAnswer> {
    return new Promise((resolve) => {
      const done = (answer: InputAnswer) => {
        if (!this.waiting.delete(request.request_id)) return;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.answered.push(request.request_id);
        if (this.answered.length > REMEMBER_ANSWERED) this.answered.shift();
        resolve(answer);
      };
      const timer = setTimeout(
        () =>
          done({
            decision: 'deny',
            message: `no answer within ${Math.round(timeoutMs / 1000)} s (permissionTimeoutS); denied`,
            by: 'timeout',
          }),
        timeoutMs,
      );
      const onAbort = () => done({ decision: 'deny', message: 'the task ended before an answer came', by: 'task end' });
      this.waiting.set(request.request_id, { request, settle: done });
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  // Gives the answer to an open question of task `taskId`, or a ToolError that says what is open instead.
  give(taskId: string, requestId: string, answer: InputAnswer): void {
    const result = this.answer(requestId, answer);
    if (result === 'answered')
      throw new ToolError(
        `request_id: ${requestId} was already answered (or timed out); see task_status for the task's open request`,
      );
    const open = this.current();
    if (result === 'unknown')
      throw new ToolError(
        `request_id: task ${taskId} has no open ` +
          `request ${requestId}; ${open ? `its open request is ${open.request_id}` : 'it waits on no request now'}`,
      );
  }

  // Gives the answer to an open question; says so when the id is unknown or was already answered.
  answer(requestId: string, answer: InputAnswer): 'ok' | 'answered' | 'unknown' {
    const entry = this.waiting.get(requestId);
    if (entry) {
      entry.settle(answer);
      return 'ok';
    }
    return this.answered.includes(requestId) ? 'answered' : 'unknown';
  }
}
