import { createRequire } from 'node:module';
import type * as NodeHttp from 'node:http';

/**
 * node:http, loaded by `require`. An ES import of a built-in module builds its whole namespace,
 * and reading node:http's lazy `WebSocket`, `CloseEvent` and `MessageEvent` exports loads Node's
 * bundled undici and node:http2 with them: ~8 MiB resident in every program that imported
 * node:http (bench item 7), for a client we never use. `require` reads only what we call.
 * Programs take node:http from here; `import type` from node:http costs nothing.
 */
export const nodeHttp = createRequire(import.meta.url)('node:http') as typeof NodeHttp;
