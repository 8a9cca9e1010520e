import type { Database } from "@viper/db/client";
import { mailOutbox } from "@viper/db/schema/mail-outbox";
import type { Logger } from "@viper/shared/logger";

/** One mail to one person. `kind` names the template, for filtering and metrics. */
export interface Mail {
  to: string;
  subject: string;
  kind: string;
  text: string;
}

/** Where the server hands mail over; it never waits for delivery itself. */
export interface MailSender {
  send(mail: Mail): Promise<void>;
}

/**
 * Queues mail in the mail_outbox table.
 * TODO: nothing delivers the outbox yet; add a worker that sends unsent rows through a mail
 * service and clears their bodies (they hold single-use links) before the first release.
 */
export class OutboxMailSender implements MailSender {
  constructor(private readonly db: Database) {}

  async send(mail: Mail): Promise<void> {
    await this.db.insert(mailOutbox).values({
      recipient: mail.to,
      subject: mail.subject,
      kind: mail.kind,
      bodyText: mail.text,
    });
  }
}

/**
 * Development only: prints the mail so a developer can follow its link. Refused by config in
 * production, since mail bodies hold single-use links.
 */
export class LogMailSender implements MailSender {
  constructor(private readonly logger: Logger) {}

  async send(mail: Mail): Promise<void> {
    this.logger.info(
      { mail: { to: mail.to, subject: mail.subject, kind: mail.kind, body: mail.text } },
      "mail (development: not sent)",
    );
  }
}
