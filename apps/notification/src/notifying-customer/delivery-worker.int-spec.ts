import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, eventually, freePort, startSmtpServer } from '@ordering/testing';
import { randomUUID } from 'node:crypto';
import { notificationMigrations } from '../migrations/index.js';
import { SmtpChannel } from './channels/smtp.channel.js';
import { DeliveryWorker, LEASE_SECONDS } from './delivery-worker.js';
import { Notification } from './notification.entity.js';

describe('delivering notifications by SMTP (real PostgreSQL, a real SMTP server)', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let port: number;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>> | undefined;
  const received = () => smtp?.received ?? [];

  beforeAll(async () => {
    database = await createTestDatabase('notifications', notificationMigrations, [Notification]);
    port = await freePort();
  });

  afterAll(async () => {
    await smtp?.close();
    await database?.drop();
  });

  const newWorker = () =>
    new DeliveryWorker(
      database.database,
      new SmtpChannel(`smtp://127.0.0.1:${port}`, 'Ordering <orders@ordering.example>'),
    );
  const rowOf = (id: string) =>
    database.dataSource.getRepository(Notification).findOneByOrFail({ id });
  /** A notification as the consumer records it: PENDING, with `attempts` and `nextAttemptAt` given. */
  async function record(fields: Pick<Notification, 'attempts' | 'nextAttemptAt'>) {
    const notification = {
      id: randomUUID(),
      eventId: randomUUID(),
      orderId: randomUUID(),
      customerId: 'c-1',
      kind: 'ORDER_CONFIRMED' as const,
      channel: 'smtp',
      recipient: 'c-1@customers.ordering.example',
      subject: 'Your order is confirmed',
      body: 'Good news.',
      status: 'PENDING' as const,
      createdAt: new Date(),
      traceparent: null,
      ...fields,
    };
    await database.dataSource.getRepository(Notification).insert(notification);
    return notification;
  }

  it('retries a delivery the server refused, then sends it once, with a stable Message-ID', async () => {
    const { id } = await record({ attempts: 0, nextAttemptAt: new Date() });
    const worker = newWorker();
    const row = () => rowOf(id);

    // No server yet: the attempt fails, is recorded, and waits for a later retry.
    await worker.deliverDue();
    expect(await row()).toMatchObject({
      status: 'PENDING',
      attempts: 1,
      lastError: expect.any(String),
    });
    expect((await row()).nextAttemptAt.getTime()).toBeGreaterThan(Date.now());

    smtp = await startSmtpServer(port);
    // Not due yet: nothing is sent before its time.
    await worker.deliverDue();
    expect(received()).toHaveLength(0);

    await database.dataSource.query(
      'UPDATE notifications SET next_attempt_at = now() WHERE id = $1',
      [id],
    );
    await worker.deliverDue();
    await worker.deliverDue();

    expect(await row()).toMatchObject({ status: 'SENT', attempts: 2, lastError: null });
    expect(received()).toHaveLength(1);
    expect(received()[0]).toContain('To: c-1@customers.ordering.example');
    expect(received()[0]).toContain('Subject: Your order is confirmed');
    expect(received()[0]).toContain(`Message-ID: <${id}@ordering.notification>`);
    expect(received()[0]).toContain('Good news.');
  });

  it('sends what it is handed once recorded, claimed for it, without claiming it again', async () => {
    smtp ??= await startSmtpServer(port);
    const leasedUntil = new Date(Date.now() + LEASE_SECONDS * 1000);
    const notification = await record({ attempts: 1, nextAttemptAt: leasedUntil });
    const worker = newWorker();
    const statements: string[] = [];
    const stopObserving = database.database.observeStatements(({ text }) => {
      statements.push(text);
    });
    try {
      worker.take([notification]);
      await eventually(async () => expect((await rowOf(notification.id)).status).toBe('SENT'));
    } finally {
      stopObserving();
    }
    expect(await rowOf(notification.id)).toMatchObject({ attempts: 1, lastError: null });
    expect(received().filter((mail) => mail.includes(notification.id))).toHaveLength(1);
    expect(statements).toEqual([expect.stringContaining("SET status = 'SENT'")]);
  });

  it('leaves one claimed for a worker that died to the poll, once its lease has run out', async () => {
    smtp ??= await startSmtpServer(port);
    const leasedUntil = new Date(Date.now() + LEASE_SECONDS * 1000);
    const notification = await record({ attempts: 1, nextAttemptAt: leasedUntil });
    const survivor = newWorker();
    await survivor.deliverDue();
    expect((await rowOf(notification.id)).status).toBe('PENDING');

    await database.dataSource.query(
      "UPDATE notifications SET next_attempt_at = now() - interval '1 second' WHERE id = $1",
      [notification.id],
    );
    await survivor.deliverDue();
    expect(await rowOf(notification.id)).toMatchObject({ status: 'SENT', attempts: 2 });
    expect(received().filter((mail) => mail.includes(notification.id))).toHaveLength(1);
  });

  it('sends what it was handed before it stops', async () => {
    smtp ??= await startSmtpServer(port);
    const leasedUntil = new Date(Date.now() + LEASE_SECONDS * 1000);
    const notifications = await Promise.all(
      [1, 2, 3].map(() => record({ attempts: 1, nextAttemptAt: leasedUntil })),
    );
    const worker = newWorker();
    worker.take(notifications);
    await worker.onApplicationShutdown();
    for (const { id } of notifications) expect((await rowOf(id)).status).toBe('SENT');
  });
});
