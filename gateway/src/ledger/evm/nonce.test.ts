import { isAlreadyKnown, isNonceError, Mutex, NonceManager } from './nonce';

describe('Mutex', () => {
  it('runs callers one at a time in arrival order, and survives a failing caller', async () => {
    const mutex = new Mutex();
    const order: string[] = [];
    const slow = (name: string, ms: number) => async () => {
      order.push(`${name}>`);
      await new Promise((r) => setTimeout(r, ms));
      order.push(`<${name}`);
    };
    const failing = mutex.run(() => Promise.reject(new Error('boom')));
    await Promise.all([mutex.run(slow('a', 20)), failing.catch(() => undefined), mutex.run(slow('b', 1))]);
    expect(order).toEqual(['a>', '<a', 'b>', '<b']);
  });
});

describe('NonceManager', () => {
  it('starts from the pending count and hands out consecutive nonces under concurrency', async () => {
    const reads: number[] = [];
    const nonces = new NonceManager(async () => (reads.push(1), 7));
    const got = await Promise.all(Array.from({ length: 5 }, () => nonces.exclusive(() => nonces.allocate())));
    expect(got).toEqual([7, 8, 9, 10, 11]);
    expect(reads).toHaveLength(1);
  });

  it('takes back only the latest nonce, and otherwise re-syncs from the node', async () => {
    let pending = 3;
    const nonces = new NonceManager(async () => pending);
    const a = await nonces.allocate();
    nonces.release(a);
    expect(await nonces.allocate()).toBe(3);
    await nonces.allocate(); // 4
    nonces.release(3); // not the latest: forget the counter
    pending = 9;
    expect(await nonces.allocate()).toBe(9);
  });

  it('classifies node messages', () => {
    expect(isNonceError('nonce too low: next nonce 5, tx nonce 4')).toBe(true);
    expect(isNonceError('Nonce too high')).toBe(true);
    expect(isNonceError('insufficient funds')).toBe(false);
    expect(isAlreadyKnown('already known')).toBe(true);
  });
});
