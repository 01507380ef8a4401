import { describe, expect, it } from '@jest/globals';

import { MemoryStub, MemoryWorld } from './stub';

const stubFor = (world: MemoryWorld, txId = 't1') =>
  new MemoryStub(world, {
    txId,
    channelId: 'c',
    timestamp: 100,
    creator: { mspid: 'M', idBytes: Buffer.alloc(0) },
    args: ['Fn', 'a', 'b'],
  });

describe('in-memory stub', () => {
  it('has no read-your-writes inside a transaction, like Fabric', async () => {
    const world = new MemoryWorld();
    const stub = stubFor(world);
    await stub.putState('k', Buffer.from('v'));
    expect((await stub.getState('k')).length).toBe(0);
    world.commit('t1', 100, stub.writes);
    expect(Buffer.from(await stubFor(world, 't2').getState('k')).toString()).toBe('v');
  });

  it('encodes composite keys as Fabric does and scans them by prefix in key order', async () => {
    const world = new MemoryWorld();
    const stub = stubFor(world);
    expect(stub.createCompositeKey('t', ['a', 'b'])).toBe('\u0000t\u0000a\u0000b\u0000');
    expect(stub.splitCompositeKey('\u0000t\u0000a\u0000b\u0000')).toEqual({ objectType: 't', attributes: ['a', 'b'] });
    for (const k of [
      ['x', '2'],
      ['x', '1'],
      ['y', '1'],
    ])
      await stub.putState(stub.createCompositeKey('t', k), Buffer.from(k.join()));
    world.commit('t1', 100, stub.writes);
    const found: string[] = [];
    for await (const kv of stubFor(world).getStateByPartialCompositeKey('t', ['x']))
      found.push(Buffer.from(kv.value).toString());
    expect(found).toEqual(['x,1', 'x,2']);
  });

  it('keeps only the last event and records history with deletes', async () => {
    const world = new MemoryWorld();
    const stub = stubFor(world);
    stub.setEvent('A', Buffer.from('1'));
    stub.setEvent('B', Buffer.from('2'));
    expect(stub.event?.name).toBe('B');
    await stub.putState('k', Buffer.from('v'));
    world.commit('t1', 100, stub.writes);
    const del = stubFor(world, 't2');
    await del.deleteState('k');
    world.commit('t2', 101, del.writes);
    const mods: [string, boolean][] = [];
    for await (const m of stubFor(world).getHistoryForKey('k')) mods.push([m.txId, m.isDelete]);
    expect(mods).toEqual([
      ['t1', false],
      ['t2', true],
    ]);
  });

  it('splits fcn and parameters', () => {
    expect(stubFor(new MemoryWorld()).getFunctionAndParameters()).toEqual({ fcn: 'Fn', params: ['a', 'b'] });
  });
});
