// Runs the server (the arguments after the trace file) and passes its stdout through, but for V8's trace lines, which
// go to the trace file: the server's stdout is the protocol.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';

const [traceFile, ...args] = process.argv.slice(2);
const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
const trace = createWriteStream(traceFile);
process.stdin.pipe(child.stdin);
let buf = '';
child.stdout.on('data', (d) => {
  buf += d.toString();
  for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
    const line = buf.slice(0, i + 1);
    buf = buf.slice(i + 1);
    (line.startsWith('{') ? process.stdout : trace).write(line);
  }
});
process.on('SIGUSR2', () => child.kill('SIGUSR2'));
child.on('exit', (code) => trace.end(() => process.exit(code ?? 0)));
