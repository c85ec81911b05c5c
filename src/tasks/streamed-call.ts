import { isBlock, type AssistantEvent, type StreamEvent } from '../claude/events.js';
import { summarizeToolInput } from '../claude/summarize.js';

// An input longer than this is not re-parsed as it streams (each try reads it all): its call shows with the assistant
// event, as before.
const MAX_STREAMED_INPUT = 16_384;

// A tool call whose input has streamed in whole, before claude's assistant event names it.
export interface StreamedCallView {
  name: string;
  summary: string;
  /** The turn the call belongs to, counted as the assistant event will count it. */
  turn: number;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

// Follows the partial-message events of the top-level tool call being written (content_block_start, input_json_delta):
// once its input parses as a whole object, the call is known. claude prints its assistant event for the call only
// after its own checks (15-25 ms later for the first call of a run); the progress of a task need not wait for that.
export class StreamedCall {
  private messageId?: string;
  private block?: { index: unknown; name: string; json: string; id?: string };
  private known?: StreamedCallView;
  /** The tool-use id of the known call: the assistant event naming it makes it go. */
  private knownId?: string;
  /** The message the known call is in: the start of another one makes it go (its assistant event never came). */
  private knownMessageId?: string;

  get view(): StreamedCallView | undefined {
    return this.known;
  }

  // Folds one stream event in; true when a call became known with it. `turns` and `lastMessageId` are the record's.
  note(event: StreamEvent, turns: number, lastMessageId: string | undefined): boolean {
    if (event.parent_tool_use_id) return false;
    const ev = event.event as Record<string, unknown>;
    if (ev.type === 'message_start') {
      this.messageId = str((ev.message as { id?: unknown } | undefined)?.id);
      // A message's assistant event comes before the next message starts (its tools run in between): a call still
      // known from another message never ran (the stream broke and claude retried with new ids).
      if (this.known && this.knownMessageId !== this.messageId) this.clear();
      return false;
    }
    if (ev.type === 'content_block_start') {
      const block = ev.content_block as { type?: unknown; name?: unknown; id?: unknown } | undefined;
      const name = block?.type === 'tool_use' ? str(block.name) : undefined;
      this.block = name ? { index: ev.index, name, json: '', id: str(block?.id) } : undefined;
      return false;
    }
    const delta = ev.delta as { type?: unknown; partial_json?: unknown } | undefined;
    const part = str(delta?.partial_json);
    const block = this.block;
    if (ev.type !== 'content_block_delta' || delta?.type !== 'input_json_delta' || part === undefined) return false;
    if (!block || block.index !== ev.index) return false;
    block.json += part;
    if (block.json.length > MAX_STREAMED_INPUT) {
      this.block = undefined;
      return false;
    }
    if (!block.json.trimEnd().endsWith('}')) return false;
    let input: unknown;
    try {
      input = JSON.parse(block.json);
    } catch {
      return false;
    }
    this.block = undefined;
    // As applyAssistant counts: a message id seen before is the same turn, any other (or none) a new one.
    const sameTurn = this.messageId !== undefined && this.messageId === lastMessageId;
    this.known = {
      name: block.name,
      summary: summarizeToolInput(block.name, input, 80),
      turn: sameTurn ? turns : turns + 1,
    };
    this.knownId = block.id;
    this.knownMessageId = this.messageId;
    return true;
  }

  // An assistant event arrived: the calls it names are in the record now. With two calls in one message, the second
  // one's input can be whole before the first one's assistant event: that event must not take the second call away
  // (the progress would go back to the first). A call streamed without an id goes with any top-level assistant event.
  named(event: AssistantEvent): void {
    if (event.parent_tool_use_id) return;
    const ids = new Set(event.message.content.flatMap((b) => (isBlock(b, 'tool_use') ? [b.id] : [])));
    if (this.block && (this.block.id === undefined || ids.has(this.block.id))) this.block = undefined;
    if (this.known && (this.knownId === undefined || ids.has(this.knownId))) {
      this.known = undefined;
      this.knownId = undefined;
    }
  }

  // The run ended, or claude retries the API call (the message being streamed is dropped): nothing is being called.
  clear(): void {
    this.block = undefined;
    this.known = undefined;
    this.knownId = undefined;
    this.knownMessageId = undefined;
  }
}
