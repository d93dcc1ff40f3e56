import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, freePort, startSmtpServer } from '@ordering/testing';
import { randomUUID } from 'node:crypto';
import { notificationMigrations } from '../migrations/index.js';
import { SmtpChannel } from './channels/smtp.channel.js';
import { DeliveryWorker } from './delivery-worker.js';
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

  it('retries a delivery the server refused, then sends it once, with a stable Message-ID', async () => {
    const id = randomUUID();
    await database.dataSource.getRepository(Notification).insert({
      id,
      eventId: randomUUID(),
      orderId: randomUUID(),
      customerId: 'c-1',
      kind: 'ORDER_CONFIRMED',
      channel: 'smtp',
      recipient: 'c-1@customers.ordering.example',
      subject: 'Your order is confirmed',
      body: 'Good news.',
      status: 'PENDING',
      attempts: 0,
      nextAttemptAt: new Date(),
      createdAt: new Date(),
    });
    const worker = new DeliveryWorker(
      database.database,
      new SmtpChannel(`smtp://127.0.0.1:${port}`, 'Ordering <orders@ordering.example>'),
    );
    const row = () => database.dataSource.getRepository(Notification).findOneByOrFail({ id });

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
});
