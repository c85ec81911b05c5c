// Task event logs as MCP resources: their URI scheme and the link a tool result carries.
const PREFIX = 'claude-tiers://tasks/';
export const EVENTS_MIME = 'application/x-ndjson';
export const EVENTS_TEMPLATE = `${PREFIX}{task_id}/events`;

// A resource_link in a tool result.
export interface ResourceLink {
  uri: string;
  name: string;
  mimeType?: string;
  description?: string;
}

// The URI of a task's event log resource.
export const eventsUri = (id: string): string => `${PREFIX}${id}/events`;

// A resource_link to a task's event log, for tool results.
export const eventsLink = (id: string): ResourceLink => ({ uri: eventsUri(id), name: `events of ${id}`, mimeType: EVENTS_MIME, description: "claude's raw stream-json events of this task (JSONL)" });

// The task id a URI names, if it is a task's event log.
export function taskIdOfUri(uri: string): string | undefined {
  const m = /^claude-tiers:\/\/tasks\/(t_[A-Za-z0-9_-]{4,64})\/events$/.exec(uri);
  return m?.[1];
}
