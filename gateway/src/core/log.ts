/**
 * Structured logs: one JSON object per line (`time`, `level`, `msg`, then fields). Fields whose
 * name looks like a secret are replaced by `[redacted]`, and certificates/keys in PEM form are
 * never written, whatever the field is called.
 */

/** Levels in increasing severity. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** Extra fields of one log line. Values must be JSON-serialisable (bigint is written as a string). */
export type LogFields = Readonly<Record<string, unknown>>;

/** A logger; `child` returns one that adds `fields` to every line. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** Lines below this level are dropped; default `info`. */
  readonly level?: LogLevel;
  /** Where lines go (without the trailing newline added); default stdout. */
  readonly sink?: (line: string) => void;
  /** Fields on every line. */
  readonly base?: LogFields;
  /** Clock, for tests. */
  readonly now?: () => Date;
}

const SECRET_NAME = /(secret|password|passwd|private|token|authorization|cookie|^key$|keypem|key_pem)/i;
const PEM = /-----BEGIN [A-Z0-9 ]+-----/;

function redact(name: string, value: unknown): unknown {
  if (SECRET_NAME.test(name)) return '[redacted]';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string' && PEM.test(value)) return '[pem redacted]';
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

function serialise(fields: LogFields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined) out[name] = redact(name, value);
  }
  return out;
}

/** Creates a JSON-lines logger. */
export function createLogger(opts: Readonly<LoggerOptions> = {}): Logger {
  const min = LOG_LEVELS.indexOf(opts.level ?? 'info');
  const sink = opts.sink ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const now = opts.now ?? (() => new Date());
  const base = serialise(opts.base ?? {});
  const write = (level: LogLevel, msg: string, fields: LogFields = {}): void => {
    if (LOG_LEVELS.indexOf(level) < min) return;
    sink(JSON.stringify({ time: now().toISOString(), level, msg, ...base, ...serialise(fields) }));
  };
  return {
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    child: (fields) => createLogger({ ...opts, base: { ...(opts.base ?? {}), ...fields } }),
  };
}

/** A logger that writes nothing (tests, embedding). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
