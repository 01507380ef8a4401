/**
 * Structured logs, built on pino: one JSON object per line (`level` as its name, `time` as an ISO
 * string, the logger's base and child fields, the line's fields, then `msg`). Lines are written
 * synchronously (stdout through `pino.destination({ sync: true })`, or `sink` in tests), so a line
 * is out when the call returns, also right before `process.exit`.
 *
 * Secrets are never written:
 * - pino's `redact` censors the well-known secret names ({@link REDACTED_NAMES}) at the top level
 *   and one level down (`headers.authorization`, `tls.key`, ...).
 * - Two rules stay hand-written because redact paths cannot express them: redact paths are literal
 *   names or `*`, not patterns, so a field whose NAME matches {@link SECRET_NAME} (`clientSecret`,
 *   `apiToken`, `dbPassword`, ...) is censored here; and redact looks at paths, never at values, so
 *   a string VALUE holding a PEM block becomes `[pem redacted]` here, whatever the field is called
 *   and at any depth. They run in pino's `formatters.log` for a line's fields; base and child
 *   fields are cleaned the same way before pino gets them (pino runs no formatter on a child's).
 * The same code writes bigints as strings and Errors as `{ name, message }` (JSON has no bigint;
 * an Error's stack is not logged).
 */
import { pino, type DestinationStream, type Logger as Pino } from 'pino';

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

const REDACTED = '[redacted]';
const PEM_REDACTED = '[pem redacted]';

/** Any field name that looks like a secret (top level: the fields given to a line, base and child). */
const SECRET_NAME = /(secret|password|passwd|private|token|authorization|cookie|^key$|keypem|key_pem)/i;
const PEM = /-----BEGIN [A-Z0-9 ]+-----/;

/** Exact names censored by pino's redact, at the top level and inside a field's object. */
const REDACTED_NAMES = [
  'secret',
  'password',
  'passwd',
  'privateKey',
  'private_key',
  'token',
  'accessToken',
  'authorization',
  'Authorization',
  'cookie',
  'key',
  'keyPem',
  'key_pem',
] as const;
const REDACT_PATHS = REDACTED_NAMES.flatMap((n) => [n, `*.${n}`]);

/** Nesting followed when looking for PEM blocks, bigints and Errors inside a field's value. */
const MAX_DEPTH = 8;

const isPlainObject = (v: object): boolean => {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/** A value as written: PEM strings censored, bigint as string, Error as `{ name, message }`. */
function cleanValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return PEM.test(value) ? PEM_REDACTED : value;
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH) return value;
  return cleanContainer(value, depth);
}

/** Arrays and plain objects, cleaned member by member; any other object as it is. */
function cleanContainer(value: object, depth: number): unknown {
  if (Array.isArray(value)) return value.map((v: unknown) => cleanValue(v, depth + 1));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(value)) out[name] = cleanValue(v, depth + 1);
  return out;
}

/** The fields of a line (or of base/child bindings) as written: secret names censored, values cleaned. */
function cleanFields(fields: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined) out[name] = SECRET_NAME.test(name) ? REDACTED : cleanValue(value);
  }
  return out;
}

/** Stdout, written synchronously; one for the process, shared by every logger. */
let stdout: DestinationStream | undefined;
const stdoutStream = (): DestinationStream => (stdout ??= pino.destination({ dest: 1, sync: true }));

/** A pino stream handing each line to `sink` without its newline. */
const sinkStream = (sink: (line: string) => void): DestinationStream => ({
  write: (line: string) => sink(line.endsWith('\n') ? line.slice(0, -1) : line),
});

function wrap(p: Pino): Logger {
  const log =
    (level: LogLevel) =>
    (msg: string, fields?: LogFields): void => {
      if (fields === undefined) p[level](msg);
      else p[level](fields, msg);
    };
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (fields) => wrap(p.child(cleanFields(fields))),
  };
}

/** Creates a JSON-lines logger. */
export function createLogger(opts: Readonly<LoggerOptions> = {}): Logger {
  const now = opts.now ?? (() => new Date());
  const p = pino(
    {
      level: opts.level ?? 'info',
      base: cleanFields(opts.base ?? {}),
      timestamp: () => `,"time":"${now().toISOString()}"`,
      // pino's default `err` serializer (type, message, stack) is replaced: the formatters below
      // write every Error, whatever its field, as `{ name, message }`.
      serializers: { err: (value: unknown) => value },
      formatters: {
        level: (label) => ({ level: label }),
        log: cleanFields,
      },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
    },
    opts.sink ? sinkStream(opts.sink) : stdoutStream(),
  );
  return wrap(p);
}

/** A logger that writes nothing (tests, embedding). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
