import type { Logger } from '../log/index.ts';
import type { GitOperationOptions } from './types.ts';

/** What a request for a whole Git job (an update run, a revert) says about every git it starts. */
export interface GitJobRequest {
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  log?: Logger | undefined;
  onCommand?: ((args: readonly string[]) => void) | undefined;
  allowInsecureHttp?: boolean | undefined;
}

/** The options each git operation of such a job takes, with the job's logger. */
export function operationOptions(request: GitJobRequest, logger: Logger): GitOperationOptions {
  return {
    timeoutMs: request.timeoutMs,
    signal: request.signal,
    logger,
    onCommand: request.onCommand,
    allowInsecureHttp: request.allowInsecureHttp,
  };
}
