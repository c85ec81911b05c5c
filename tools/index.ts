import type { Limits } from '../src/engine.js';
import { answerTaskTool } from './answer-task.js';
import { compareStatusTool, compareTiersTool } from './compare-tiers.js';
import { deepTaskTool } from './deep-task.js';
import { killTaskTool } from './kill-task.js';
import { listTasksTool } from './list-tasks.js';
import { mergeTaskTool } from './merge-task.js';
import { quickAnswerTool } from './quick-answer.js';
import { serverStatsTool } from './server-stats.js';
import { taskStatusTool } from './task-status.js';

// Every MCP tool of claude-tiers, in the order tools/list shows them; input caps come from the config's limits.
export const toolsFor = (limits: Limits) => [
  quickAnswerTool(limits),
  deepTaskTool(limits),
  taskStatusTool(limits),
  listTasksTool,
  killTaskTool,
  answerTaskTool,
  mergeTaskTool,
  serverStatsTool,
  compareTiersTool(limits),
  compareStatusTool(limits),
];
