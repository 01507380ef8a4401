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
});
