/** A worker thread: loads Go's wasm_exec.js and the module, then answers with its tidemarkRender. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

// The lib settings declare no WebAssembly types: the little used here, spelt out.
interface GoGlobals {
  Go: new () => { importObject: object; run(instance: object): Promise<void> };
  WebAssembly: { instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: object }> };
  tidemarkRender?: (request: string) => unknown;
}

/**
 * Go's linker declares the module's memory without a maximum: give it one, so that a template
 * that allocates without bound makes Go exit (out of memory) instead of growing the process by
 * gigabytes before the time limit.
 */
function withMemoryMax(wasm: Buffer, maxBytes: number): Buffer {
  const leb = (n: number): number[] => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, ...leb(n >>> 7)]);
  for (let at = 8; at < wasm.length;) {
    let [size, shift, p] = [0, 0, at + 1];
    for (let byte = 0x80; byte & 0x80; shift += 7) size |= ((byte = wasm[p++] ?? 0) & 0x7f) << shift;
    // The memory section: one memory, flags 0 (no maximum), the minimum.
    if (wasm[at] === 5 && wasm[p] === 1 && wasm[p + 1] === 0) {
      const memory = [1, 1, ...wasm.subarray(p + 2, p + size), ...leb(maxBytes >>> 16)];
      return Buffer.concat([wasm.subarray(0, at), Buffer.from([5, ...leb(memory.length), ...memory]), wasm.subarray(p + size)]);
    }
    at = p + size;
  }
  throw new Error('the module declares no memory');
}

// Go prints only when it dies (a fatal error and every goroutine's stack) or misses a timer, and
// wasm_exec.js prints through console: not into the program's logs. The failure reaches the
// caller as the request's error.
const quiet = (): void => undefined;
Object.assign(console, { log: quiet, warn: quiet, error: quiet, info: quiet, debug: quiet });

const globals = globalThis as unknown as GoGlobals;
const { dir, maxMemoryBytes } = workerData as { dir: string; maxMemoryBytes: number };
await import(pathToFileURL(join(dir, 'wasm_exec.js')).href);
const go = new globals.Go();
const wasm = withMemoryMax(await readFile(join(dir, 'commit-template.wasm')), maxMemoryBytes);
void go.run((await globals.WebAssembly.instantiate(wasm, go.importObject)).instance);
parentPort?.on('message', (request: string) => {
  const response = globals.tidemarkRender?.(request);
  // Go exits only on a fatal error; a template reaches none but running out of memory.
  if (typeof response !== 'string') throw new Error(`the Go program exited, most likely out of its ${maxMemoryBytes >>> 20} MiB`);
  parentPort?.postMessage(response);
});
