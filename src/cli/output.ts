import { shown } from '../claude/decision-text.js';

// CLI commands (doctor, --print-config) print their report on stdout; the MCP server never calls this.
export function printOut(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

// A model's answer as `ask` and `run` print it: raw bytes into a pipe or a file (what a script asked for), but on a
// terminal its control and hiding characters escaped, line breaks and tabs kept: a task steered by a hostile tree must
// not drive the terminal of the person who reads its answer (OSC 52 sets their clipboard).
export function answerOut(text: string, tty: boolean): string {
  if (!tty) return text;
  return text
    .split('\n')
    .map((line) => line.split('\t').map(shown).join('\t'))
    .join('\n');
}
