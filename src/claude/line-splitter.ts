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

const PREVIEW_BYTES = 200;

// Splits a byte stream into lines with bounded memory: a line over maxLineBytes is reported once and skipped, never buffered whole.
export function createLineSplitter(options: LineSplitterOptions): { push(chunk: Buffer | string): void; flush(): void } {
  const max = options.maxLineBytes ?? 8 * 1024 * 1024;
  let parts: Buffer[] = [];
  let size = 0;
  let skipping: { bytes: number; preview: string } | undefined;

  const emit = (buf: Buffer) => {
    let line = buf.toString('utf8');
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.length) options.onLine(line);
  };
  const take = (piece: Buffer) => {
    if (skipping) {
      skipping.bytes += piece.length;
      return;
    }
    if (size + piece.length > max) {
      const head = Buffer.concat([...parts, piece.subarray(0, PREVIEW_BYTES)]).subarray(0, PREVIEW_BYTES);
      skipping = { bytes: size + piece.length, preview: head.toString('utf8').replace(/\uFFFD+$/, '') };
      parts = [];
      size = 0;
      return;
    }
    parts.push(piece);
    size += piece.length;
  };
  const endLine = () => {
    if (skipping) {
      options.onOversized?.({ oversized: true, ...skipping });
      skipping = undefined;
    } else if (size) emit(parts.length === 1 ? parts[0]! : Buffer.concat(parts, size));
    parts = [];
    size = 0;
  };
  return {
    push(chunk) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(0x0a, start);
        if (nl < 0) break;
        take(buf.subarray(start, nl));
        endLine();
        start = nl + 1;
      }
      if (start < buf.length) take(Buffer.from(buf.subarray(start)));
    },
    flush() {
      endLine();
    },
  };
}
