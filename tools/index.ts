import { deepTaskTool } from './deep-task.js';
import { killTaskTool } from './kill-task.js';
import { listTasksTool } from './list-tasks.js';
import { quickAnswerTool } from './quick-answer.js';
import { serverStatsTool } from './server-stats.js';
import { taskStatusTool } from './task-status.js';

// Every MCP tool of claude-tiers, in the order tools/list shows them.
export const tools = [quickAnswerTool, deepTaskTool, taskStatusTool, listTasksTool, killTaskTool, serverStatsTool];
