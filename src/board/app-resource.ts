import { RESOURCE_MIME_TYPE, RESOURCE_URI_META_KEY } from '@modelcontextprotocol/ext-apps/server';
import { webAsset } from './web-assets.js';

// The board as an MCP App: the resource hosts render inline, and the tool metadata that points at it.
export const BOARD_APP_URI = 'ui://claude-tiers/board';

// The `_meta` of a tool whose results the board can show (list_tasks, task_status, deep_task).
export const boardToolMeta = { ui: { resourceUri: BOARD_APP_URI }, [RESOURCE_URI_META_KEY]: BOARD_APP_URI };

// The resource as resources/list shows it.
export const boardAppListing = {
  uri: BOARD_APP_URI,
  name: 'board',
  title: 'claude-tiers board',
  mimeType: RESOURCE_MIME_TYPE,
  description: 'tasks, permission requests, kill and merge, as an MCP App',
};

// The resource's contents: one self-contained HTML file (script and style inline; it loads nothing).
export function boardAppContents(): { uri: string; mimeType: string; text: string; _meta: Record<string, unknown> } {
  const text = webAsset('board-app.html') ?? '<!doctype html><p>The board was not built: run npm run build.</p>';
  return { uri: BOARD_APP_URI, mimeType: RESOURCE_MIME_TYPE, text, _meta: { ui: { prefersBorder: true } } };
}
