import { z } from "zod";

/** Trims and lower-cases an address, the one form users.email and lookups use. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** An email address as users type it, validated and normalized. */
export const emailSchema = z
  .string()
  .max(254)
  .transform(normalizeEmail)
  .pipe(z.email({ message: "Enter a valid email address." }));
