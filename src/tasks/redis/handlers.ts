import type { InputAnswer } from '../input-requests.js';
import type { TaskRecord } from '../types.js';

// What one server asks of the server that runs a task: stop it, or take an answer to its open question.
export type ControlMessage =
  { kind: 'kill'; id: string; by: string } | { kind: 'answer'; id: string; requestId: string; answer: InputAnswer };

// What the redis backend does for the cluster (see Cluster.attach).
export interface ClusterHandlers {
  control(message: ControlMessage): void;
  suspect(id: string): void;
  tick(): void;
  refused(record: TaskRecord): void;
}
