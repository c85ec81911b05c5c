import { randomBytes } from 'node:crypto';
import type { AuditLog } from '../audit.js';
import type { PermissionHook } from '../claude/control.js';
import type { ClaudeRun } from '../claude/run.js';
import type { TierConfig } from '../config/schema.js';
import { pathInsideRoots } from '../cwd.js';
import type { InputRequest } from './input-requests.js';
import type { LiveTask } from './live-task.js';

const PATH_FIELDS = ['file_path', 'path', 'notebook_path'];

// A path field of a tool's input that lies outside the allowed roots: no answer can allow that.
function outsideRoots(input: unknown, roots: string[], cwd: string): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const o = input as Record<string, unknown>;
  return PATH_FIELDS.map((k) => o[k]).find(
    (v): v is string => typeof v === 'string' && !pathInsideRoots(v, roots, cwd),
  );
}

// Turns claude's can_use_tool requests into questions for the task's caller: the task shows needs_input, the idle
// timer waits, the answer (or the deadline's denial) goes back to claude; the operator's roots win over any answer.
export function permissionHook(
  task: LiveTask,
  run: ClaudeRun,
  tier: TierConfig,
  deps: { roots: string[]; workdir: string; audit: AuditLog; save: () => void },
): PermissionHook {
  return async (req, signal) => {
    const base = { task_id: task.id, tool: req.toolName };
    const outside = outsideRoots(req.input, deps.roots, deps.workdir);
    if (outside) {
      deps.audit.write('permission_answer', { ...base, decision: 'deny', by: 'allowed roots', path: outside });
      return {
        behavior: 'deny',
        message: `${outside} is outside the allowed roots of this server; no answer can allow it`,
      };
    }
    const now = Date.now();
    const request: InputRequest = {
      request_id: `p_${randomBytes(6).toString('base64url')}`,
      kind: 'permission',
      tool: req.toolName,
      input: req.input,
      ...(req.reason ? { reason: req.reason } : {}),
      asked_at: new Date(now).toISOString(),
      expires_at: new Date(now + tier.permissionTimeoutS * 1000).toISOString(),
    };
    const release = run.holdIdle();
    const show = () =>
      task.update((r) => {
        const open = task.inputs.current();
        if (open && (r.state === 'running' || r.state === 'needs_input'))
          Object.assign(r, { state: 'needs_input', inputRequest: open });
        else if (r.state === 'needs_input') Object.assign(r, { state: 'running', inputRequest: undefined });
      });
    try {
      const answer = task.inputs.ask(request, tier.permissionTimeoutS * 1000, signal);
      show();
      deps.save();
      task.notify();
      deps.audit.write('permission_request', {
        ...base,
        request_id: request.request_id,
        input: req.input,
        reason: req.reason,
      });
      const a = await answer;
      deps.audit.write('permission_answer', {
        ...base,
        request_id: request.request_id,
        decision: a.decision,
        by: a.by,
        message: a.message,
      });
      return a.decision === 'allow'
        ? { behavior: 'allow' }
        : { behavior: 'deny', message: a.message ?? `denied by ${a.by}` };
    } finally {
      release();
      show();
      deps.save();
      task.notify();
    }
  };
}
