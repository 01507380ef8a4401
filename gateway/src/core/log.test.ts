import { spawnSync } from 'node:child_process';
import { createLogger } from './log';

describe('logger', () => {
  const capture = (level?: 'debug' | 'info' | 'warn' | 'error') => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      ...(level ? { level } : {}),
      sink: (l) => lines.push(JSON.parse(l) as Record<string, unknown>),
      now: () => new Date('2026-01-02T03:04:05.000Z'),
    });
    return { lines, logger };
  };

  it('writes one JSON object per line with time, level, msg and fields', () => {
    const { lines, logger } = capture();
    logger.child({ party: 'BANKA' }).info('request', { status: 201, amount: 10n });
    expect(lines).toEqual([
      { time: '2026-01-02T03:04:05.000Z', level: 'info', msg: 'request', party: 'BANKA', status: 201, amount: '10' },
    ]);
  });

  it('drops lines below the level', () => {
    const { lines, logger } = capture('warn');
    logger.info('no');
    logger.warn('yes');
    expect(lines.map((l) => l['msg'])).toEqual(['yes']);
  });

  it('never writes secrets, keys or PEM blocks', () => {
    const { lines, logger } = capture();
    logger.info('x', {
      secret: 's3',
      privateKey: 'k',
      authorization: 'Basic abc',
      key: 'k2',
      cert: '-----BEGIN CERTIFICATE-----\nMII...',
      error: new Error('boom'),
    });
    expect(lines[0]).toMatchObject({
      secret: '[redacted]',
      privateKey: '[redacted]',
      authorization: '[redacted]',
      key: '[redacted]',
      cert: '[pem redacted]',
      error: { name: 'Error', message: 'boom' },
    });
  });

  it('censors secret names in base and child fields, and well-known names one level down', () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      base: { party: 'BANKA', apiToken: 't' },
      sink: (l) => lines.push(JSON.parse(l) as Record<string, unknown>),
    });
    logger.child({ clientSecret: 's', peer: 'BANKB' }).warn('call', {
      headers: { authorization: 'Bearer x', accept: 'json' },
      tls: { key: 'k', ca: 'c' },
    });
    expect(lines[0]).toMatchObject({
      level: 'warn',
      party: 'BANKA',
      apiToken: '[redacted]',
      clientSecret: '[redacted]',
      peer: 'BANKB',
      headers: { authorization: '[redacted]', accept: 'json' },
      tls: { key: '[redacted]', ca: 'c' },
    });
  });

  it('censors PEM blocks, and writes bigints and errors, inside nested values too', () => {
    const { lines, logger } = capture();
    const pem = '-----BEGIN PRIVATE KEY-----\nMIG...';
    logger.info('x', {
      anchors: [{ mspId: 'A', cert: pem }],
      amounts: { total: 2n ** 70n },
      causes: [new TypeError('t')],
      err: new RangeError('r'),
    });
    expect(lines[0]).toMatchObject({
      anchors: [{ mspId: 'A', cert: '[pem redacted]' }],
      amounts: { total: (2n ** 70n).toString() },
      causes: [{ name: 'TypeError', message: 't' }],
      err: { name: 'RangeError', message: 'r' },
    });
  });

  it('writes time, level and msg as strings and omits undefined fields', () => {
    const { lines, logger } = capture('debug');
    logger.debug('d', { gone: undefined });
    logger.error('e');
    expect(lines).toEqual([
      { time: '2026-01-02T03:04:05.000Z', level: 'debug', msg: 'd' },
      { time: '2026-01-02T03:04:05.000Z', level: 'error', msg: 'e' },
    ]);
  });

  it('writes to stdout synchronously: no line is lost when the process exits right after', () => {
    const script = [
      `const { createLogger } = require(${JSON.stringify(require.resolve('./log'))});`,
      "const logger = createLogger({ base: { component: 'process' } });",
      "for (let i = 0; i < 2000; i += 1) logger.info('line', { i, pad: 'x'.repeat(200) });",
      'process.exit(0);',
    ].join('\n');
    const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    const lines = run.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2000);
    expect(lines[1999]).toMatchObject({ level: 'info', component: 'process', msg: 'line', i: 1999 });
  });
});
