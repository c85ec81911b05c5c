// CLI commands (doctor, --print-config) print their report on stdout; the MCP server never calls this.
export function printOut(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}
