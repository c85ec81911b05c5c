import { StringDecoder } from 'node:string_decoder';

// What is reported, once, for a line longer than maxLineBytes: its size and its first bytes.
export interface OversizedLine {
  oversized: true;
  bytes: number;
  preview: string;
}

export interface LineSplitterOptions {
  maxLineBytes?: number;
  onLine: (line: string) => void;
  onOversized?: (info: OversizedLine) => void;
}

export interface LineSplitter {
  push(chunk: Buffer | string): void;
  flush(): void;
  bufferedBytes(): number;
}

// Default bound on one stdout line of claude (a huge tool result or structured output still fits).
export const DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024;
const PREVIEW_BYTES = 200;

// The first PREVIEW_BYTES of a line as text, without a character cut in half at the end.
function previewOf(pieces: Buffer[]): string {
  const decoder = new StringDecoder('utf8');
  let out = '';
  let left = PREVIEW_BYTES;
  for (const p of pieces) {
    if (left <= 0) break;
    const slice = p.subarray(0, left);
    out += decoder.write(slice);
    left -= slice.length;
  }
  return out;
}

// Splits a byte stream into lines with bounded memory. Bytes are decoded per whole line, so a UTF-8 character
// split across chunks survives. A line over maxLineBytes is never buffered whole: it is reported once when it
// ends (newline or flush) and its bytes are dropped. Empty lines are skipped; a trailing \r is removed.
export function createLineSplitter(options: LineSplitterOptions): LineSplitter {
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  let parts: Buffer[] = [];
  let size = 0;
  let skipping: OversizedLine | undefined;

  // Adds a piece of the current line; `keep` copies it so a small tail does not pin a large chunk.
  const append = (piece: Buffer, keep: boolean) => {
    if (piece.length === 0) return;
    if (skipping) {
      skipping.bytes += piece.length;
      return;
    }
    if (size + piece.length > max) {
      skipping = { oversized: true, bytes: size + piece.length, preview: previewOf([...parts, piece]) };
      parts = [];
      size = 0;
      return;
    }
    parts.push(keep ? Buffer.from(piece) : piece);
    size += piece.length;
  };

  const endLine = () => {
    const oversized = skipping;
    const buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
    parts = [];
    size = 0;
    skipping = undefined;
    if (oversized) {
      options.onOversized?.(oversized);
      return;
    }
    let line = buf.toString('utf8');
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.length > 0) options.onLine(line);
  };

  return {
    push(chunk) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      let start = 0;
      for (let nl = buf.indexOf(0x0a, start); nl >= 0; nl = buf.indexOf(0x0a, start)) {
        append(buf.subarray(start, nl), false);
        endLine();
        start = nl + 1;
      }
      append(buf.subarray(start), true);
    },
    flush() {
      if (size > 0 || skipping) endLine();
    },
    bufferedBytes: () => size,
  };
}
