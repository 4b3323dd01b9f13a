import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { installCoordinatorCache, type CoordinatorLookup } from './coordinator-cache';

/** Kafka error codes of the errors the fake broker answers with (kafkajs' KafkaJSProtocolError carries both). */
const CODES: Record<string, number> = { COORDINATOR_NOT_AVAILABLE: 15, NOT_COORDINATOR: 16, CONCURRENT_TRANSACTIONS: 51 };

/** A stand-in for kafkajs' Cluster: counts lookups and hands out brokers by node id. */
function fakeCluster() {
  class FakeBroker {
    calls = 0;
    constructor(readonly nodeId: number) {}
    async endTxn(fail?: string): Promise<string> {
      this.calls++;
      if (fail) throw fail in CODES ? Object.assign(new Error(fail), { name: 'KafkaJSProtocolError', type: fail, code: CODES[fail] }) : new Error(fail);
      return `ok from ${this.nodeId}`;
    }
    describe(): string {
      return `broker ${this.nodeId}`;
    }
  }
  class FakeCluster implements CoordinatorLookup {
    lookups: string[] = [];
    coordinator = 1;
    async findGroupCoordinator({ groupId, coordinatorType = 0 }: { groupId: string; coordinatorType?: number }): Promise<object> {
      this.lookups.push(`${coordinatorType}:${groupId}`);
      return new FakeBroker(this.coordinator);
    }
  }
  return FakeCluster;
}

type Broker = { nodeId: number; endTxn(fail?: string): Promise<string>; describe(): string };

describe('installCoordinatorCache', () => {
  it('looks a coordinator up once per id and type while it is fresh', async () => {
    const Cluster = fakeCluster();
    assert.equal(installCoordinatorCache(Cluster.prototype), true);
    const cluster = new Cluster();
    const a = (await cluster.findGroupCoordinator({ groupId: 'tx-1', coordinatorType: 1 })) as Broker;
    const b = (await cluster.findGroupCoordinator({ groupId: 'tx-1', coordinatorType: 1 })) as Broker;
    await cluster.findGroupCoordinator({ groupId: 'tx-1' }); // same id, group coordinator: its own entry
    await cluster.findGroupCoordinator({ groupId: 'tx-2', coordinatorType: 1 });
    assert.deepEqual(cluster.lookups, ['1:tx-1', '0:tx-1', '1:tx-2']);
    assert.equal(a, b);
    // the proxy behaves as the broker: properties, methods and their `this`
    assert.equal(a.nodeId, 1);
    assert.equal(a.describe(), 'broker 1');
    assert.equal(await a.endTxn(), 'ok from 1');
    // a second cluster (another producer) has its own cache
    const other = new Cluster();
    await other.findGroupCoordinator({ groupId: 'tx-1', coordinatorType: 1 });
    assert.deepEqual(other.lookups, ['1:tx-1']);
  });

  it('forgets a coordinator whose call failed, so the retry finds the new one', async () => {
    const Cluster = fakeCluster();
    installCoordinatorCache(Cluster.prototype);
    const cluster = new Cluster();
    const first = (await cluster.findGroupCoordinator({ groupId: 'tx', coordinatorType: 1 })) as Broker;
    cluster.coordinator = 2; // the coordinator moved
    await assert.rejects(first.endTxn('NOT_COORDINATOR'), { type: 'NOT_COORDINATOR' });
    const second = (await cluster.findGroupCoordinator({ groupId: 'tx', coordinatorType: 1 })) as Broker;
    assert.equal(second.nodeId, 2);
    assert.equal(cluster.lookups.length, 2);
    // a late failure of the old broker does not drop the new entry
    await assert.rejects(first.endTxn('socket closed'));
    await cluster.findGroupCoordinator({ groupId: 'tx', coordinatorType: 1 });
    assert.equal(cluster.lookups.length, 2);
    // a connection failure of the current one does
    await assert.rejects(second.endTxn('socket closed'));
    await cluster.findGroupCoordinator({ groupId: 'tx', coordinatorType: 1 });
    assert.equal(cluster.lookups.length, 3);
  });

  it('keeps a coordinator that answered with an error that is not about coordination', async () => {
    const Cluster = fakeCluster();
    installCoordinatorCache(Cluster.prototype);
    const cluster = new Cluster();
    const broker = (await cluster.findGroupCoordinator({ groupId: 'tx', coordinatorType: 1 })) as Broker;
    await assert.rejects(broker.endTxn('CONCURRENT_TRANSACTIONS'), { code: 51 });
    await cluster.findGroupCoordinator({ groupId: 'tx', coordinatorType: 1 });
    assert.equal(cluster.lookups.length, 1);
    await assert.rejects(broker.endTxn('COORDINATOR_NOT_AVAILABLE'), { code: 15 });
    await cluster.findGroupCoordinator({ groupId: 'tx', coordinatorType: 1 });
    assert.equal(cluster.lookups.length, 2);
  });

  it('looks up again once an entry is older than the TTL', async () => {
    const Cluster = fakeCluster();
    let clock = 0;
    installCoordinatorCache(Cluster.prototype, 1_000, () => clock);
    const cluster = new Cluster();
    await cluster.findGroupCoordinator({ groupId: 'g' });
    clock = 999;
    await cluster.findGroupCoordinator({ groupId: 'g' });
    assert.equal(cluster.lookups.length, 1);
    clock = 1_000;
    await cluster.findGroupCoordinator({ groupId: 'g' });
    assert.equal(cluster.lookups.length, 2);
  });

  it('does not cache a failed lookup, and installs once', async () => {
    const Cluster = fakeCluster();
    let failNext = true;
    const original = Cluster.prototype.findGroupCoordinator;
    Cluster.prototype.findGroupCoordinator = async function (this: InstanceType<typeof Cluster>, args) {
      if (failNext) {
        failNext = false;
        throw new Error('GROUP_COORDINATOR_NOT_AVAILABLE');
      }
      return original.call(this, args);
    };
    installCoordinatorCache(Cluster.prototype);
    const wrapped = Cluster.prototype.findGroupCoordinator;
    installCoordinatorCache(Cluster.prototype);
    assert.equal(Cluster.prototype.findGroupCoordinator, wrapped);
    const cluster = new Cluster();
    await assert.rejects(cluster.findGroupCoordinator({ groupId: 'g' }), /NOT_AVAILABLE/);
    await cluster.findGroupCoordinator({ groupId: 'g' });
    await cluster.findGroupCoordinator({ groupId: 'g' });
    assert.deepEqual(cluster.lookups, ['0:g']);
  });

  it('leaves a prototype without the method alone', () => {
    assert.equal(installCoordinatorCache({} as CoordinatorLookup), false);
  });

  it('finds kafkajs\' Cluster.prototype.findGroupCoordinator (the version this was written for)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Cluster = require('kafkajs/src/cluster') as { prototype: CoordinatorLookup };
    assert.equal(typeof Cluster.prototype.findGroupCoordinator, 'function');
  });
});
