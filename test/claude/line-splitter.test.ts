import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLineSplitter, DEFAULT_MAX_LINE_BYTES, type OversizedLine } from '../../src/claude/line-splitter.js';

const collect = (maxLineBytes?: number) => {
  const lines: string[] = [];
  const oversized: OversizedLine[] = [];
  const splitter = createLineSplitter({
    maxLineBytes,
    onLine: (l) => lines.push(l),
    onOversized: (o) => oversized.push(o),
  });
  return { splitter, lines, oversized };
};

describe('createLineSplitter', () => {
  it('joins lines split across chunks and splits chunks holding several lines', () => {
    const { splitter, lines } = collect();
    splitter.push('{"a":');
    splitter.push(Buffer.from('1}\n{"b":2}\n{"c"'));
    expect(lines).toEqual(['{"a":1}', '{"b":2}']);
    splitter.push(':3}\r\n\n\n');
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
    expect(splitter.bufferedBytes()).toBe(0);
  });

  it('keeps multi-byte UTF-8 characters that are split across chunks', () => {
    const text = 'héllo ✓ 日本語 🎉 done';
    const bytes = Buffer.from(`${text}\n${text}\n`, 'utf8');
    const { splitter, lines } = collect();
    for (let i = 0; i < bytes.length; i++) splitter.push(bytes.subarray(i, i + 1));
    expect(lines).toEqual([text, text]);
    expect(lines.join('')).not.toContain('\uFFFD');
  });

  it('emits the last unterminated line on flush, once', () => {
    const { splitter, lines } = collect();
    splitter.push('one\ntwo');
    expect(lines).toEqual(['one']);
    splitter.flush();
    splitter.flush();
    expect(lines).toEqual(['one', 'two']);
    const empty = collect();
    empty.splitter.flush();
    expect(empty.lines).toEqual([]);
  });

  it('replays a real claude stdout capture in odd-sized chunks into the same lines', () => {
    const raw = readFileSync(join(import.meta.dirname, 'fixtures', 'bash-tool.jsonl'));
    const expected = raw
      .toString('utf8')
      .split('\n')
      .filter((l) => l.length > 0);
    for (const size of [1, 7, 333, 4096, raw.length]) {
      const { splitter, lines } = collect();
      for (let i = 0; i < raw.length; i += size) splitter.push(raw.subarray(i, i + size));
      splitter.flush();
      expect(lines).toEqual(expected);
    }
  });

  it('accepts a line of exactly maxLineBytes and reports a longer one once, with its size and a preview', () => {
    const { splitter, lines, oversized } = collect(1000);
    splitter.push(`${'a'.repeat(1000)}\n`);
    expect(lines).toEqual(['a'.repeat(1000)]);
    const big = `{"type":"user",${'x'.repeat(5000)}}`;
    for (let i = 0; i < big.length; i += 300) splitter.push(big.slice(i, i + 300));
    expect(oversized).toEqual([]);
    splitter.push('\n{"after":true}\n');
    expect(oversized).toEqual([{ oversized: true, bytes: Buffer.byteLength(big), preview: big.slice(0, 200) }]);
    expect(lines).toEqual(['a'.repeat(1000), '{"after":true}']);
  });

  it('reports an oversized line that the stream ends in on flush, and never cuts a character in the preview', () => {
    const { splitter, lines, oversized } = collect(100);
    splitter.push('日'.repeat(500));
    splitter.flush();
    expect(lines).toEqual([]);
    expect(oversized).toHaveLength(1);
    expect(oversized[0]!.bytes).toBe(1500);
    expect(oversized[0]!.preview).toBe('日'.repeat(66));
  });

  it('passes a 20 MB line without holding more than maxLineBytes of it', () => {
    const max = 1024 * 1024;
    const { splitter, lines, oversized } = collect(max);
    const chunk = Buffer.alloc(64 * 1024, 0x78);
    const before = process.memoryUsage().arrayBuffers;
    let peakBuffered = 0;
    let peakExternal = 0;
    splitter.push('{"type":"assistant","x":"');
    for (let sent = 0; sent < 20 * 1024 * 1024; sent += chunk.length) {
      splitter.push(chunk);
      peakBuffered = Math.max(peakBuffered, splitter.bufferedBytes());
      peakExternal = Math.max(peakExternal, process.memoryUsage().arrayBuffers - before);
    }
    splitter.push('"}\n{"type":"result"}\n');
    expect(peakBuffered).toBeLessThanOrEqual(max);
    expect(peakExternal).toBeLessThan(6 * 1024 * 1024);
    expect(oversized).toHaveLength(1);
    expect(oversized[0]!.bytes).toBe(20 * 1024 * 1024 + '{"type":"assistant","x":"'.length + 2);
    expect(oversized[0]!.preview).toBe(`{"type":"assistant","x":"${'x'.repeat(200 - 25)}`);
    expect(lines).toEqual(['{"type":"result"}']);
    expect(splitter.bufferedBytes()).toBe(0);
  });

  it('defaults to an 8 MiB bound', () => {
    expect(DEFAULT_MAX_LINE_BYTES).toBe(8 * 1024 * 1024);
    const { splitter, lines, oversized } = collect();
    splitter.push(Buffer.alloc(DEFAULT_MAX_LINE_BYTES, 0x61));
    splitter.push('\n');
    splitter.push(Buffer.alloc(DEFAULT_MAX_LINE_BYTES + 1, 0x61));
    splitter.push('\n');
    expect(lines.map((l) => l.length)).toEqual([DEFAULT_MAX_LINE_BYTES]);
    expect(oversized.map((o) => o.bytes)).toEqual([DEFAULT_MAX_LINE_BYTES + 1]);
  });
});
