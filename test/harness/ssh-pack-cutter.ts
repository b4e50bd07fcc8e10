/**
 * `node ssh-pack-cutter.ts <bytes> <command> [args...]`: runs the command (git-upload-pack, for
 * sshd's ForceCommand in git-server.ts) with our stdin and stderr, and passes its stdout on until
 * `<bytes>` after the pack signature, then ends, the command with it: the client sees the
 * connection close in the middle of a pack, as when a server or the network fails mid-transfer.
 * Everything before the pack (ref advertisement, negotiation) passes whole, so ls-remote works.
 */
import { spawn } from 'node:child_process';

const [limitArg, command, ...args] = process.argv.slice(2);
const limit = Number(limitArg);
if (!command || !Number.isInteger(limit) || limit < 0) {
  process.stderr.write('usage: ssh-pack-cutter.ts <bytes> <command> [args...]\n');
  process.exit(2);
}

const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
process.stdin.pipe(child.stdin);
child.stdin.on('error', () => undefined);

const SIGNATURE = Buffer.from('PACK');
let tail = Buffer.alloc(0);
let packAt: number | undefined;
let passed = 0;
let cut = false;
child.stdout.on('data', (chunk: Buffer) => {
  if (cut) return;
  if (packAt === undefined) {
    // The signature may straddle two chunks: search the end of the last one too.
    const window = Buffer.concat([tail, chunk]);
    const at = window.indexOf(SIGNATURE);
    if (at >= 0) packAt = passed - tail.length + at;
    tail = window.subarray(Math.max(0, window.length - SIGNATURE.length + 1));
  }
  const room = packAt === undefined ? chunk.length : packAt + limit - passed;
  if (room >= chunk.length && packAt === undefined) {
    passed += chunk.length;
    process.stdout.write(chunk);
    return;
  }
  const part = chunk.subarray(0, Math.max(0, room));
  passed += part.length;
  if (part.length === chunk.length && room > chunk.length) {
    process.stdout.write(part);
    return;
  }
  cut = true;
  child.stdout.pause();
  process.stdout.write(part, () => {
    child.kill('SIGKILL');
    process.exit(1);
  });
});
child.once('close', (code) => process.exit(code ?? 1));
