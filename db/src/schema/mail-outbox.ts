import { index, pgTable, text } from "drizzle-orm/pg-core";
import { createdAt, id, moment } from "./columns.ts";

/**
 * Mail waiting to be delivered. The server writes here instead of talking to a mail service, so
 * sending never blocks a request; tests read their mail from it.
 */
export const mailOutbox = pgTable(
  "mail_outbox",
  {
    id: id(),
    recipient: text("recipient").notNull(),
    subject: text("subject").notNull(),
    // What the mail is for ("verify-email", "account-exists"), so a reader can find one kind.
    kind: text("kind").notNull(),
    bodyText: text("body_text").notNull(),
    sentAt: moment("sent_at"),
    createdAt: createdAt(),
  },
  // A delivery worker reads the unsent rows oldest first.
  (t) => [index("mail_outbox_unsent_idx").on(t.sentAt, t.createdAt)],
);

export type MailOutboxRow = typeof mailOutbox.$inferSelect;
