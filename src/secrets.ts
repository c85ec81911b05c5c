// Variables of the server that no child process ever needs: the HTTP token, and the Redis URL (it may hold a password).
export const ALWAYS_SECRET_ENV = ['CLAUDE_TIERS_HTTP_TOKEN', 'CLAUDE_TIERS_REDIS_URL'] as const;

// Removes the server's secrets from an environment (process.env at start-up, once the config has read them),
// so claude, its tools, its MCP servers and every warm spare inherit none of them.
export function withholdSecrets(env: NodeJS.ProcessEnv, secretEnv: readonly string[]): string[] {
  const removed: string[] = [];
  for (const name of [...ALWAYS_SECRET_ENV, ...secretEnv]) {
    if (Object.hasOwn(env, name)) {
      delete env[name];
      removed.push(name);
    }
  }
  return removed;
}
