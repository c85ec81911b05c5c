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
export const eventsLink = (id: string): ResourceLink => ({
  uri: eventsUri(id),
  name: `events of ${id}`,
  mimeType: EVENTS_MIME,
  description: "claude's raw stream-json events of this task (JSONL)",
});

// The task id a URI names, if it is a task's event log.
export function taskIdOfUri(uri: string): string | undefined {
  const m = /^claude-tiers:\/\/tasks\/(t_[A-Za-z0-9_-]{4,64})\/events$/.exec(uri);
  return m?.[1];
}

// An isolated task's work as a diff against its base (its branch, base_commit..head_commit), as a resource.
export const DIFF_MIME = 'text/x-diff';
export const DIFF_TEMPLATE = `${PREFIX}{task_id}/diff`;
export const diffUri = (id: string): string => `${PREFIX}${id}/diff`;
export const diffLink = (id: string, branch: string): ResourceLink => ({
  uri: diffUri(id),
  name: `diff of ${id}`,
  mimeType: DIFF_MIME,
  description: `the task's changes on ${branch}, against its base commit`,
});

// The task id a URI names, if it is a task's diff.
export function taskIdOfDiffUri(uri: string): string | undefined {
  return /^claude-tiers:\/\/tasks\/(t_[A-Za-z0-9_-]{4,64})\/diff$/.exec(uri)?.[1];
}
