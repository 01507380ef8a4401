import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPublicClient } from 'viem';
import { evmTransport } from './transport';

describe('EVM transport', () => {
  let server: Server;
  let url: string;
  let answers: string[] = [];
  let requests = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        requests += 1;
        res.setHeader('content-type', 'application/json');
        res.end(answers.shift() ?? JSON.stringify({ jsonrpc: '2.0', id: 0, result: '0x2a' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    requests = 0;
  });

  const outOfRange = JSON.stringify({
    jsonrpc: '2.0',
    id: 0,
    error: { code: -32602, message: 'BlockOutOfRangeError: block height is 19 but requested was 18' },
  });

  it('retries a read that a pruning node answered with "block out of range"', async () => {
    answers = [outOfRange, outOfRange];
    const client = createPublicClient({ transport: evmTransport(url) });
    expect(await client.getBlockNumber({ cacheTime: 0 })).toBe(42n);
    expect(requests).toBe(3);
  });

  it('passes any other error through unchanged, without retrying', async () => {
    answers = [JSON.stringify({ jsonrpc: '2.0', id: 0, error: { code: -32000, message: 'execution reverted' } })];
    const client = createPublicClient({ transport: evmTransport(url) });
    await expect(client.getBlockNumber({ cacheTime: 0 })).rejects.toThrow('execution reverted');
    expect(requests).toBe(1);
  });
});
