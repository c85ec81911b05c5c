import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Where `npm run build` puts the board's browser files (dist/web), next to the compiled server (dist/src/board).
const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

// The board's built files, read once; undefined when the build did not make them (the board then says so).
export function webAsset(
  name: 'board.js' | 'board.css' | 'board.html' | 'login.html' | 'board-app.html',
): string | undefined {
  cached[name] ??= read(name);
  return cached[name] || undefined;
}

const cached: Record<string, string | undefined> = {};
function read(name: string): string {
  try {
    return readFileSync(`${WEB_DIR}${name}`, 'utf8');
  } catch {
    return '';
  }
}
