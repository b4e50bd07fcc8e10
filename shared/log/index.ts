import { pino } from 'pino';
import type { Logger as PinoLogger } from 'pino';

/**
 * Structured logging: fixed messages, facts in fields (`log.info({ cd: 'ns/name', revision }, 'sync finished')`).
 * The interface is ours so the library code never depends on the logging backend.
 */
export interface Logger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
  child(fields: Record<string, unknown>): Logger;
}

/** Field names that may carry credentials; their values are replaced before a line is written. */
const REDACT = [
  'password',
  'token',
  'bearerToken',
  'identity',
  'authorization',
  'Authorization',
  'auth',
  '*.password',
  '*.token',
  '*.bearerToken',
  '*.identity',
  '*.authorization',
  '*.Authorization',
  '*.auth',
];

export interface LoggerOptions {
  level?: string;
  name?: string;
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const base = pino(
    {
      level: options.level ?? 'info',
      ...(options.name === undefined ? {} : { name: options.name }),
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? process.stdout,
  );
  return wrap(base);
}

function wrap(p: PinoLogger): Logger {
  return {
    debug: (f, m) => p.debug(f, m),
    info: (f, m) => p.info(f, m),
    warn: (f, m) => p.warn(f, m),
    error: (f, m) => p.error(f, m),
    child: (f) => wrap(p.child(f)),
  };
}

/** A logger that writes nothing, for unit tests and library defaults. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};
