import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ORDER_API_ROLES, orderConfirmedV1, orderPlacedV1, Queues } from '@ordering/contracts';
import { connectConsumer } from '@ordering/messaging';
import { BearerTokens, Database } from '@ordering/platform';
import {
  ConnectionFaults,
  eventually,
  freePort,
  startInProcess,
  startSmtpServer,
  testEvent,
  unboundedInputs,
  testPublisher,
  type InProcessService,
} from '@ordering/testing';
import { decodeJwt } from 'jose';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';

const confirmed = (orderId: string) =>
  testEvent(orderConfirmedV1, {
    orderId,
    status: 'CONFIRMED',
    version: 2,
    occurredAt: new Date().toISOString(),
  });

const placed = (orderId: string, customerId: string) =>
  testEvent(orderPlacedV1, {
    orderId,
    customerId,
    lines: [{ sku: 'KETTLE', quantity: 2, unitPrice: 2500 }],
    total: 5000,
    currency: 'EUR',
    placedAt: new Date().toISOString(),
    version: 1,
  });

describe('notifying customers under lost connections (real PostgreSQL, RabbitMQ and SMTP)', () => {
  let notification: InProcessService;
  let publisher: Awaited<ReturnType<typeof testPublisher>>;
  let faults: ConnectionFaults;
  let orderApi: http.Server;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let answerDelayMs = 0;
  /** The orders the order API was asked about. */
  const asked: string[] = [];
  /** The Authorization headers it asked with. */
  const authorizations: (string | undefined)[] = [];
  const sql = <T>(text: string, values: unknown[] = []) =>
    notification.app.get(DataSource).query(text, values) as Promise<T[]>;

  const notificationsOf = (orderId: string) =>
    sql<{ status: string; attempts: number }>(
      'SELECT status, attempts FROM notifications WHERE order_id = $1',
      [orderId],
    );
  const mailsTo = (orderId: string) => smtp.received.filter((mail) => mail.includes(orderId));

  beforeAll(async () => {
    // The order API, as far as this service asks it: the details of any order.
    orderApi = http.createServer((request, response) => {
      const orderId = request.url!.split('/').pop()!;
      asked.push(orderId);
      authorizations.push(request.headers.authorization);
      setTimeout(() => {
        response.setHeader('content-type', 'application/json');
        response.end(
          JSON.stringify({
            orderId,
            customerId: 'customer-1',
            status: 'CONFIRMED',
            items: [{ sku: 'MUG', quantity: 1, unitPrice: 900 }],
            total: 900,
            currency: 'EUR',
          }),
        );
      }, answerDelayMs);
    });
    await new Promise<void>((resolve) => orderApi.listen(0, '127.0.0.1', resolve));
    const smtpPort = await freePort();
    smtp = await startSmtpServer(smtpPort);

    notification = await startInProcess({
      name: 'notification',
      env: {
        ORDER_API_URL: `http://127.0.0.1:${(orderApi.address() as AddressInfo).port}`,
        SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      },
      load: async () => ({
        service: (await import('../notification-service.definition.js')).notificationService,
        module: (await import('../notification.module.js')).NotificationModule,
      }),
      connect: (app) => connectConsumer(app, 'notification', Queues.notificationOrderEvents),
    });
    publisher = await testPublisher(notification.rabbitmqUrl);
    faults = await new ConnectionFaults(notification.app.get(Database)).start();
  });

  afterAll(async () => {
    await faults?.stop();
    await publisher?.close();
    await notification?.stop();
    await smtp?.close();
    await new Promise((resolve) => orderApi?.close(resolve));
  });

  it('writes the notification of an order it saw placed from its replica, asking nobody', async () => {
    const orderId = randomUUID();
    await publisher.publish(placed(orderId, 'customer-replica'));
    await eventually(async () =>
      expect(await sql('SELECT 1 FROM order_replicas WHERE order_id = $1', [orderId])).toHaveLength(
        1,
      ),
    );
    await publisher.publish(confirmed(orderId));
    await eventually(() => expect(mailsTo(orderId)).toHaveLength(1));
    const [mail] = mailsTo(orderId);
    expect(mail).toContain('customer-replica@');
    expect(mail).toContain('2 =C3=97 KETTLE at 25.00 EUR'); // quoted-printable ×
    expect(mail).toContain('Total: 50.00 EUR');
    expect(asked).not.toContain(orderId);
  });

  it('asks the order API for an order whose order.placed it has not seen', async () => {
    const orderId = randomUUID();
    await publisher.publish(confirmed(orderId));
    await eventually(() => expect(mailsTo(orderId)).toHaveLength(1));
    expect(asked).toContain(orderId);
    expect(mailsTo(orderId)[0]).toContain('customer-1@');
  });

  it('asks as itself with a short-lived token whose one role reads orders, never as an admin', async () => {
    const orderId = randomUUID();
    await publisher.publish(confirmed(orderId));
    await eventually(() => expect(asked).toContain(orderId));
    const token = /^Bearer (.+)$/.exec(authorizations.at(-1) ?? '')?.[1];
    const caller = await notification.app.get(BearerTokens).verify(token!);
    expect(caller).toEqual({
      id: 'notification-service',
      roles: [ORDER_API_ROLES.orderReader],
      isAdmin: false,
    });
    const { iat, exp } = decodeJwt(token!);
    expect(exp! - iat!).toBeLessThanOrEqual(300);
  });

  it('holds no transaction open while it asks the order API', async () => {
    answerDelayMs = 700;
    try {
      const orderId = randomUUID();
      await publisher.publish(confirmed(orderId));
      // While the order API takes its time, the service has no transaction open anywhere.
      await new Promise((resolve) => setTimeout(resolve, 350));
      const open = await sql(
        `SELECT pid FROM pg_stat_activity
         WHERE datname = current_database() AND xact_start IS NOT NULL AND pid <> pg_backend_pid()`,
      );
      expect(open).toEqual([]);
      await eventually(async () => expect(await notificationsOf(orderId)).toHaveLength(1));
    } finally {
      answerDelayMs = 0;
    }
  });

  it('records one notification per event, whatever statement loses the connection', async () => {
    const label = 'consume order.confirmed';
    const statements = await faults.statementsOf({ label }, async () => {
      const orderId = randomUUID();
      await publisher.publish(confirmed(orderId));
      await eventually(async () => expect(await notificationsOf(orderId)).toHaveLength(1));
    });
    expect(statements).toEqual([
      'BEGIN',
      expect.stringContaining('INSERT INTO inbox'),
      expect.stringContaining('INSERT INTO notifications'),
      'COMMIT',
    ]);
    for (const [index, text] of statements.entries()) {
      const orderId = randomUUID();
      const broken = faults.breakBefore({ label, index });
      await publisher.publish(confirmed(orderId));
      expect(await broken).toBe(text);
      const retry = faults.holdNext({ label });
      await retry.reached;
      expect(await notificationsOf(orderId)).toEqual([]);
      retry.release();
      await eventually(async () =>
        expect(await notificationsOf(orderId)).toEqual([{ status: 'SENT', attempts: 1 }]),
      );
      await eventually(() => expect(mailsTo(orderId)).toHaveLength(1));
    }
  });

  it('sends a notification once when recording that it was sent loses the connection', async () => {
    const orderId = randomUUID();
    const broken = faults.breakBefore({ label: 'autocommit', text: /SET status = 'SENT'/ });
    await publisher.publish(confirmed(orderId));
    await broken;
    await eventually(async () =>
      expect(await notificationsOf(orderId)).toEqual([{ status: 'SENT', attempts: 1 }]),
    );
    // Well past the next deliveries: still one mail.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(mailsTo(orderId)).toHaveLength(1);
  });

  it('documents a bound for every input its API takes', async () => {
    const document = await fetch(`${notification.url}/docs-json`);
    expect(unboundedInputs(await document.json())).toEqual([]);
  });
});
