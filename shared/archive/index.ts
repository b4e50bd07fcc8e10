export { DEFAULT_TAR_LIMITS, extractTar, listTar, maybeGunzip, safePath } from './tar.ts';
export type { ExtractResult, TarEntry, TarLimits } from './tar.ts';
