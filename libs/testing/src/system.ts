import { databaseUrl, dropDatabase, uniqueDatabaseName } from './databases.js';
import { eventually } from './eventually.js';
import { httpClient, tokenFor, UNLIMITED_RATES } from './http-client.js';
import { freePort, ServiceProcess, type ServiceName } from './service-process.js';
import { createServiceBrokerUsers, createTestVhost } from './vhosts.js';

const SERVICES: ServiceName[] = ['order', 'inventory', 'notification'];

/**
 * The whole system as users run it: the three built services as separate processes, each with a
 * database of its own, sharing a RabbitMQ virtual host of their own. Tests drive it only
 * through HTTP and the broker.
 */
export class OrderingSystem {
  /** The first instance of each service. */
  readonly services = new Map<ServiceName, ServiceProcess>();
  /** Every instance of each service, on one database and one queue (`instances`). */
  readonly instances = new Map<ServiceName, ServiceProcess[]>();
  readonly admin = tokenFor('ops', { admin: true });
  /** The database of each service, by service name. */
  readonly databases = new Map<ServiceName, string>();
  private vhost?: { url: string; remove: () => Promise<void> };
  private brokerUsers?: Awaited<ReturnType<typeof createServiceBrokerUsers>>;

  /**
   * `ownBrokerUsers`: each service connects as its own RabbitMQ user, allowed only its own
   * exchanges and queues (`scripts/broker-setup.mjs`), instead of the administrator.
   * `instances`: how many processes of each service run, each on a port of its own.
   */
  constructor(
    private readonly env: Record<string, string> = {},
    private readonly options: { ownBrokerUsers?: boolean; instances?: number } = {},
  ) {}

  /** The administrator's URL of the system's virtual host. */
  get rabbitmqUrl(): string {
    return this.vhost!.url;
  }

  /** The URL `service` connects to RabbitMQ with (its own user's, with `ownBrokerUsers`). */
  brokerUrlOf(service: ServiceName): string {
    return this.brokerUsers?.urls[service] ?? this.rabbitmqUrl;
  }

  async start(): Promise<this> {
    this.vhost = await createTestVhost('system');
    if (this.options.ownBrokerUsers) {
      this.brokerUsers = await createServiceBrokerUsers(this.vhost.url);
    }
    const count = this.options.instances ?? 1;
    const ports = Object.fromEntries(
      await Promise.all(
        SERVICES.map(async (name) => {
          const taken: number[] = [];
          while (taken.length < count) taken.push(await freePort());
          return [name, taken] as const;
        }),
      ),
    ) as Record<ServiceName, number[]>;
    for (const name of SERVICES) {
      const database = uniqueDatabaseName(name);
      this.databases.set(name, database);
      const upper = name.toUpperCase();
      const instances = ports[name].map(
        (port, index) =>
          new ServiceProcess(name, port, {
            [`${upper}_HTTP_PORT`]: String(port),
            [`${upper}_DATABASE_URL`]: databaseUrl(database),
            RABBITMQ_URL: this.brokerUrlOf(name),
            ORDER_API_URL: `http://127.0.0.1:${ports.order[index]}`,
            INVENTORY_DEMO_CATALOGUE: 'false',
            RETRY_BASE_DELAY_MS: '100',
            RETRY_MAX_DELAY_MS: '1000',
            LOG_LEVEL: 'warn',
            ...UNLIMITED_RATES,
            ...this.env,
          }),
      );
      this.instances.set(name, instances);
      this.services.set(name, instances[0]);
    }
    // Together: instances of one service starting at once is part of what is tested.
    await Promise.all(this.all().map((service) => service.start()));
    return this;
  }

  private all(): ServiceProcess[] {
    return [...this.instances.values()].flat();
  }

  async stop(): Promise<void> {
    await Promise.all(this.all().map((service) => service.stop()));
    await Promise.all([...this.databases.values()].map(dropDatabase));
    await this.vhost?.remove();
    await this.brokerUsers?.remove();
  }

  /** The first instance of `name` still running (the first one, if none is). */
  service(name: ServiceName): ServiceProcess {
    const instances = this.instances.get(name)!;
    return instances.find((instance) => instance.isRunning()) ?? instances[0];
  }

  http(name: ServiceName) {
    return httpClient(this.service(name).url);
  }

  /** Stocks a product and waits until the order service's catalogue replica has it. */
  async stock(sku: string, available: number, price = 1000): Promise<void> {
    const put = await this.http('inventory')('PUT', `/products/${sku}`, {
      token: this.admin,
      body: { name: `Product ${sku}`, price, currency: 'EUR', available },
    });
    if (put.status >= 300)
      throw new Error(`PUT /products/${sku}: ${put.status} ${JSON.stringify(put.body)}`);
    await eventually(
      async () => {
        const catalogue = await this.http('order')('GET', '/catalogue', { token: this.admin });
        const product = (catalogue.body as { sku: string; available: number }[]).find(
          (p) => p.sku === sku,
        );
        if (product?.available !== available) throw new Error(`${sku} not replicated yet`);
      },
      { timeoutMs: 20_000 },
    );
  }

  async product(sku: string): Promise<{ available: number; reserved: number }> {
    return (await this.http('inventory')('GET', `/products/${sku}`)).body;
  }

  async placeOrder(customer: string, items: { sku: string; quantity: number }[]) {
    const placed = await this.http('order')('POST', '/orders', {
      token: tokenFor(customer),
      body: { items },
    });
    if (placed.status !== 202)
      throw new Error(`POST /orders: ${placed.status} ${JSON.stringify(placed.body)}`);
    return placed.body.orderId as string;
  }

  async order(orderId: string) {
    return (await this.http('order')('GET', `/orders/${orderId}`, { token: this.admin })).body;
  }

  /** Polls until the order reaches one of `statuses`; fails with the last status seen. */
  async orderReaches(orderId: string, statuses: string[], timeoutMs = 30_000) {
    return eventually(
      async () => {
        const order = await this.order(orderId);
        if (!statuses.includes(order.status))
          throw new Error(`order ${orderId} is ${order.status}`);
        return order;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  async orderEvents(orderId: string): Promise<{ type: string; version: number }[]> {
    return (await this.http('order')('GET', `/orders/${orderId}/events`, { token: this.admin }))
      .body;
  }

  async notifications(orderId: string): Promise<{ kind: string; status: string }[]> {
    return (
      await this.http('notification')('GET', `/notifications?orderId=${orderId}`, {
        token: this.admin,
      })
    ).body;
  }
}
