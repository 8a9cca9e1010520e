import type { Mail } from "./mail-sender.ts";

/** The mail that proves an address: sent on registration and on an email change. */
export function verifyEmailMail(to: string, link: string, expiresInHours: number): Mail {
  return {
    to,
    kind: "verify-email",
    subject: "Confirm your email address for Viper Portal",
    text: [
      "Confirm this address for your Viper Portal account by opening the link below:",
      "",
      link,
      "",
      `The link works once and expires in ${expiresInHours} hours.`,
      "If you did not ask for this, ignore this mail.",
    ].join("\n"),
  };
}

/**
 * Sent when someone registers with an address that has an account, instead of an error that
 * would tell them whether the address is known.
 */
export function accountExistsMail(to: string, signInUrl: string): Mail {
  return {
    to,
    kind: "account-exists",
    subject: "Someone tried to register with your address",
    text: [
      "Someone tried to create a Viper Portal account with this address, which already has one.",
      "",
      `If it was you, sign in instead: ${signInUrl}`,
      "If it was not you, you need not do anything.",
    ].join("\n"),
  };
}
