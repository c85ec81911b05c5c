// Public API of the process-tree terminator (Linux /proc based; degrades to plain kill() elsewhere).
export {
  readProcStat,
  parseProcStat,
  isAlive,
  processStartTime,
  ownProcessGroup,
  hasProc,
  type ProcInfo,
} from './proc.js';
export {
  listDescendants,
  snapshotTree,
  groupsOf,
  scanChildrenMap,
  type GroupRef,
  type TreeSnapshot,
} from './descendants.js';
export { killGroups, killRecorded, killGroupIfLeaderMatches, safeKill } from './kill-groups.js';
export { terminateTree, killTreeSync, type TerminateOptions, type TerminateReport } from './terminate-tree.js';
