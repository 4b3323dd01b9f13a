import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryBus, type SubscribeOptions } from '@seqrec/bus';
import { BusServer, type BusHandlerExtras } from './bus.server';

/** The groups a server subscribes its handlers with. */
async function groupsOf(server: BusServer, bus: MemoryBus): Promise<string[]> {
  const groups: string[] = [];
  const subscribe = bus.subscribe.bind(bus);
  bus.subscribe = (options: SubscribeOptions, handler) => {
    groups.push(options.groupId);
    return subscribe(options, handler);
  };
  await new Promise<void>((resolve, reject) => server.listen((err?: unknown) => (err ? reject(err as Error) : resolve())));
  await server.close();
  return groups;
}

describe(BusServer.name, () => {
  const extras = (e: BusHandlerExtras) => e as unknown as Record<string, unknown>;
  // Nest keeps a handler's extras on the function itself: one function per handler
  const handler = () => async () => undefined;

  it('names a perInstance handler\'s group after the instance, the others as given', async () => {
    const bus = new MemoryBus();
    const sut = new BusServer(bus, [], { instanceId: 'scorer-7f9c-w1' });
    sut.addHandler('t.shared', handler(), true, extras({ group: 'shared' }));
    sut.addHandler('t.broadcast', handler(), true, extras({ group: 'models', perInstance: true, latest: true }));
    assert.deepEqual(await groupsOf(sut, bus), ['shared', 'models-scorer-7f9c-w1']);
  });

  it('refuses a perInstance handler without an instance id', async () => {
    const bus = new MemoryBus();
    const sut = new BusServer(bus);
    sut.addHandler('t.broadcast', handler(), true, extras({ group: 'models', perInstance: true }));
    await assert.rejects(groupsOf(sut, bus), /perInstance: the BusServer needs an instanceId/);
  });
});
