import type { Transporter } from 'nodemailer';
import nodemailer from 'nodemailer';
import type { Delivery, DeliveryChannel } from './delivery-channel.js';

/** E-mail through an SMTP server (`SMTP_URL`), with nodemailer. */
export class SmtpChannel implements DeliveryChannel {
  readonly name = 'smtp';
  private readonly transport: Transporter;

  constructor(
    url: string,
    private readonly from: string,
  ) {
    this.transport = nodemailer.createTransport(url);
  }

  async deliver(notification: Delivery): Promise<void> {
    await this.transport.sendMail({
      from: this.from,
      to: notification.recipient,
      subject: notification.subject,
      text: notification.body,
      // A stable Message-ID: a resend after a crash is recognisable as the same mail.
      messageId: `<${notification.id}@ordering.notification>`,
    });
  }
}
