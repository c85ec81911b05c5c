import { shown } from '../claude/decision-text.js';
import { describeApiError, isAuthFailure } from '../errors.js';
import type { EndInfo, TaskRecord, TaskState } from './types.js';

// Decides a finished task's final state and reason: the first stop reason wins, else claude's own result.
export function decideOutcome(
  record: Readonly<TaskRecord>,
  stop: EndInfo | undefined,
  exit: { exitCode?: number; signal?: string },
  stderr: string,
): { state: TaskState; end: EndInfo } {
  if (stop) {
    const state: TaskState =
      stop.reason === 'wall_timeout' || stop.reason === 'idle_timeout'
        ? 'timed_out'
        : stop.reason === 'lost'
          ? 'lost'
          : ['loop', 'budget', 'output_cap', 'memory', 'error', 'spawn_failed'].includes(stop.reason)
            ? 'failed'
            : 'killed';
    return { state, end: stop };
  }
  const r = record.result;
  if (r && !r.isError && record.request.outputSchema && r.structuredOutput === undefined) {
    return {
      state: 'failed',
      end: {
        reason: 'error',
        message:
          `claude ended without structured output (${r.numTurns} turns; it never called its StructuredOutput ` +
          `tool); output_schema was not met`,
      },
    };
  }
  if (r && !r.isError)
    return {
      state: 'succeeded',
      end: { reason: 'completed', message: `completed in ${r.numTurns} turn(s), $${r.costUsd.toFixed(4)}` },
    };
  if (r) {
    if (r.subtype === 'error_max_turns') {
      return {
        state: 'failed',
        end: {
          reason: 'max_turns',
          message:
            `stopped at the turn limit (max_turns, ${r.numTurns} turns); partial output kept. Raise max_turns ` +
            `or continue the task.`,
        },
      };
    }
    if (r.subtype === 'error_max_budget_usd') {
      return {
        state: 'failed',
        end: {
          reason: 'max_budget',
          message:
            `stopped at the budget limit (max_budget_usd): $${r.costUsd.toFixed(4)} spent; partial output ` +
            `kept. Raise max_budget_usd to go on.`,
        },
      };
    }
    if (r.apiErrorStatus !== undefined || isAuthFailure(undefined, r.text))
      return { state: 'failed', end: { reason: 'error', message: describeApiError(r.apiErrorStatus, r.text) } };
    return {
      state: 'failed',
      end: {
        reason: 'error',
        message:
          `claude reported an error ` +
          `(${shown(r.subtype)}): ${shown((r.text || r.errors?.join('; ') || 'no details').slice(0, 500))}`,
      },
    };
  }
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode ?? '?'}`;
  const tail = stderr.trim().split('\n').slice(-3).join(' ').slice(0, 500);
  return {
    state: 'failed',
    end: {
      reason: 'crashed',
      message: `claude ${how} without a result${tail ? `: ${shown(tail)}` : ''}; partial output kept.`,
    },
  };
}
