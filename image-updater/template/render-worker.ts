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

const globals = globalThis as unknown as GoGlobals;
const { dir } = workerData as { dir: string };
await import(pathToFileURL(join(dir, 'wasm_exec.js')).href);
const go = new globals.Go();
const { instance } = await globals.WebAssembly.instantiate(await readFile(join(dir, 'commit-template.wasm')), go.importObject);
void go.run(instance);
parentPort?.on('message', (request: string) => {
  const response = globals.tidemarkRender?.(request);
  // Not a string once the Go program died (e.g. out of memory): the parent sees the error.
  if (typeof response !== 'string') throw new Error('the Go program exited');
  parentPort?.postMessage(response);
});
