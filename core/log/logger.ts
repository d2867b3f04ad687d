import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * Paths that may hold credentials. pino replaces them before a line is written, so that a careless
 * `log.info({ secret })` cannot leak a token or a kubeconfig.
 */
export const redactedPaths = [
  'token',
  '*.token',
  'kubeconfig',
  '*.kubeconfig',
  'authorization',
  '*.authorization',
  'headers.Authorization',
  'data',
  '*.data',
  'password',
  '*.password',
  'key',
  '*.key',
  'keyPem',
  '*.keyPem',
];

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export function isLogLevel(s: string): s is LogLevel {
  return s === 'debug' || s === 'info' || s === 'warn' || s === 'error';
}

/** A JSON logger for one component; add request context with `.child({ cluster })`. */
export function createLogger(component: string, level: LogLevel = 'info', destination?: NodeJS.WritableStream): Logger {
  const opts = {
    level,
    base: { component },
    redact: { paths: redactedPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(opts, destination) : pino(opts);
}

/** The message of an error without its stack, for a log field or a status message. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
