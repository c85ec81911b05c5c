import { shown } from '../claude/decision-text.js';
import { isBlock, type ClaudeEvent } from '../claude/events.js';
import type { EndInfo, TaskRecord } from './types.js';

// Caps a monitor enforces for one task (from the tier, narrowed by the task's own options).
export interface MonitorLimits {
  loopRepeats: number;
  maxOutputTokens?: number;
  maxCostUsd?: number;
  maxTurns?: number;
  maxOutputBytes: number;
}

// Per-task state of the monitors: the last tool call and how often it repeated in a row.
export interface MonitorState {
  lastCall?: string;
  repeats: number;
  outputBytes: number;
}

const REFUSAL = [
  /^\s*(I'?m sorry|I am sorry|Sorry),?\s+(but\s+)?I\s+(can(?:no|')t|won'?t|am (?:not able|unable)|must decline)/i,
  new RegExp(
    String.raw`^\s*I\s+(can(?:no|')t|won'?t|am not able to|am unable to|must decline to)\s+` +
      String.raw`(help|assist|do|comply|provide|complete|fulfil+)`,
    'i',
  ),
  /^\s*(Unfortunately,?\s+)?I('m| am) not (able|allowed|permitted) to\b/i,
  /\bI (must|have to) (decline|refuse)\b/i,
];

// True when a final answer reads as a refusal (a small, tested pattern set).
export function isRefusal(text: string): boolean {
  const head = text.trim().slice(0, 400);
  return head.length > 0 && REFUSAL.some((re) => re.test(head));
}

// Looks at one event (already folded into the record); returns why the task must stop, or undefined.
export function checkEvent(
  record: TaskRecord,
  state: MonitorState,
  event: ClaudeEvent,
  limits: MonitorLimits,
): EndInfo | undefined {
  if (event.type === 'assistant') {
    for (const block of event.message.content) {
      if (!isBlock(block, 'tool_use')) continue;
      const call = `${block.name}\u0000${JSON.stringify(block.input ?? null)}`;
      state.repeats = call === state.lastCall ? state.repeats + 1 : 1;
      state.lastCall = call;
      if (limits.loopRepeats > 0 && state.repeats >= limits.loopRepeats) {
        const last = record.tools[record.tools.length - 1];
        return {
          reason: 'loop',
          message:
            `stopped: loop - ${shown(last?.name ?? block.name)} "${last?.summary ?? ''}" called ${state.repeats} ` +
            `times in a row with the same input`,
        };
      }
    }
  }
  const s = record.stats;
  if (limits.maxOutputTokens !== undefined && s.outputTokens > limits.maxOutputTokens) {
    return {
      reason: 'budget',
      message:
        `stopped: budget - ${s.outputTokens} output tokens, over the cap of ${limits.maxOutputTokens}; ` +
        `$${s.costUsd.toFixed(4)} spent`,
    };
  }
  if (limits.maxCostUsd !== undefined && s.costUsd > limits.maxCostUsd) {
    return {
      reason: 'budget',
      message: `stopped: budget - $${s.costUsd.toFixed(4)} spent, over the cap of $${limits.maxCostUsd}`,
    };
  }
  if (limits.maxTurns !== undefined && s.turns > limits.maxTurns) {
    return {
      reason: 'budget',
      message: `stopped: budget - ${s.turns} turns, over the cap of ${limits.maxTurns}; $${s.costUsd.toFixed(4)} spent`,
    };
  }
  return undefined;
}

// Counts captured output; returns a stop reason once the task printed more than its cap.
export function checkOutput(state: MonitorState, bytes: number, limits: MonitorLimits): EndInfo | undefined {
  state.outputBytes += bytes;
  if (state.outputBytes > limits.maxOutputBytes) {
    return {
      reason: 'output_cap',
      message:
        `stopped: output cap - claude printed ${Math.round(state.outputBytes / 1048576)} MB, over the cap ` +
        `of ${Math.round(limits.maxOutputBytes / 1048576)} MB`,
    };
  }
  return undefined;
}
