import { z } from 'zod';

// The principal of the local user (stdio clients and the CLI).
export const LOCAL_PRINCIPAL = 'local';

// Who owns a task or a comparison: "local" (stdio, the CLI) or "token:<name>" (an HTTP bearer token).
export const PrincipalSchema = z.string().min(1);
export type Principal = z.infer<typeof PrincipalSchema>;

// Who is asking: tasks belong to the principal that started them; an admin sees every task.
export const ViewerSchema = z.object({ principal: PrincipalSchema, admin: z.boolean() });
export type Viewer = z.infer<typeof ViewerSchema>;

// Whether a viewer may see and act on a task (no viewer: the server itself).
export const visibleTo = (record: { principal?: string }, viewer: Viewer | undefined): boolean =>
  !viewer || viewer.admin || (record.principal ?? LOCAL_PRINCIPAL) === viewer.principal;
