import { createRequire } from 'node:module';

type CelModule = typeof import('./expression.ts');

let loaded: CelModule | undefined;

/**
 * The CEL library on first use. It costs the process ~13 MiB resident once loaded, and only a
 * spec with health check expressions needs it, so specs are read without it. Synchronous
 * (require of an ES module): compiling stays part of reading a spec.
 */
export function cel(): CelModule {
  loaded ??= createRequire(import.meta.url)('./expression.ts') as CelModule;
  return loaded;
}
