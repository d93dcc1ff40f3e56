import { afterEach, describe, expect, it } from '@jest/globals';
import { createTestVhost, eventually, freePort, TcpProxy } from '@ordering/testing';
import { BrokerConnection, publishConfirmed } from './broker-connection.js';

/** Each node of a "cluster" is a proxy of its own in front of the one broker of this machine. */
async function nodeAt(vhostUrl: string): Promise<{ proxy: TcpProxy; url: string }> {
  const proxy = await new TcpProxy('127.0.0.1', 5672).start();
  const url = new URL(vhostUrl);
  url.port = String(proxy.port);
  return { proxy, url: url.toString() };
}

describe('BrokerConnection with the nodes of a cluster (real RabbitMQ)', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(urls: string[]) {
    const broker = new BrokerConnection({
      urls,
      connectionName: 'failover-test',
      exchanges: ['failover.events'],
    });
    cleanups.push(() => broker.onApplicationShutdown());
    const publisher = broker.confirmChannel({ name: 'publisher' });
    return { broker, publisher };
  }

  it('connects to the next node when the first cannot be reached', async () => {
    const vhost = await createTestVhost('failover');
    cleanups.push(vhost.remove);
    const down = new URL(vhost.url);
    down.port = String(await freePort());
    const up = await nodeAt(vhost.url);
    cleanups.push(() => up.proxy.stop());

    const { broker, publisher } = await setUp([down.toString(), up.url]);
    await publisher.whenOpen();
    expect(broker.address).toContain(`:${up.proxy.port}/`);
    expect(broker.problems()).toEqual([]);
  });

  it('moves to another node when the one it is on goes down, and publishes there', async () => {
    const vhost = await createTestVhost('failover');
    cleanups.push(vhost.remove);
    const first = await nodeAt(vhost.url);
    const second = await nodeAt(vhost.url);
    cleanups.push(
      () => first.proxy.stop(),
      () => second.proxy.stop(),
    );
    const { broker, publisher } = await setUp([first.url, second.url]);
    await publisher.whenOpen();
    expect(broker.address).toContain(`:${first.proxy.port}/`);

    await first.proxy.cut();
    await eventually(() => expect(broker.address).toContain(`:${second.proxy.port}/`));
    await eventually(() => expect(broker.problems()).toEqual([]));
    await publisher.whenOpen();
    const channel = publisher.current!;
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, 'failover.events', '#');
    await publishConfirmed(channel, 'failover.events', 'anything', Buffer.from('{}'), {});
    expect((await channel.checkQueue(queue)).messageCount).toBe(1);
  });
});
