import { readFileSync } from "node:fs";
import { z } from "zod";

/** Raised at start when the configuration does not validate; the message lists every bad field. */
export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

const emptyToUndefined = (value: unknown) => (value === "" ? undefined : value);

/** An optional string that treats an empty env var as unset. */
export const optionalString = () => z.preprocess(emptyToUndefined, z.string().optional());

/** A TCP port; 0 asks the OS for a free one. */
export const port = (fallback: number) =>
  z.coerce.number().int().min(0).max(65535).default(fallback);

/** Settings both services read: where the data lives and how to log. */
export const baseConfigShape = {
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  LOG_FORMAT: z.enum(["json", "pretty"]).optional(),
  DATABASE_URL: optionalString().pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
      .optional(),
  ),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  PGLITE_DIR: z.string().default(".data/pglite"),
  REDIS_URL: optionalString().pipe(
    z
      .string()
      .regex(/^rediss?:\/\//, "must be a redis:// URL")
      .optional(),
  ),
};

export const baseConfigSchema = z.object(baseConfigShape);
export type BaseConfig = z.infer<typeof baseConfigSchema>;

type Source = Record<string, string | undefined>;

function readConfigFile(path: string): Source {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new ConfigError([`CONFIG_FILE: cannot read ${path} (${(cause as Error).message})`]);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new Error("expected a JSON object");
    }
    return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
  } catch (cause) {
    if (cause instanceof ConfigError) {
      throw cause;
    }
    throw new ConfigError([
      `CONFIG_FILE: ${path} is not a JSON object (${(cause as Error).message})`,
    ]);
  }
}

/**
 * Validates the environment (and the optional JSON file named by CONFIG_FILE, which env values
 * override) against a zod object schema. Throws one ConfigError naming every bad field, so an
 * operator fixes them all in one go instead of one restart per field.
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: Source = process.env,
): z.infer<S> {
  const fromFile = env.CONFIG_FILE ? readConfigFile(env.CONFIG_FILE) : {};
  const merged: Source = { ...fromFile };
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined) {
      merged[key] = value;
    }
  }
  const result = schema.safeParse(merged);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const field = issue.path.join(".") || "(root)";
        const got = merged[String(issue.path[0])];
        return `${field}: ${issue.message}${got === undefined ? "" : ` (got ${JSON.stringify(got)})`}`;
      }),
    );
  }
  return result.data;
}
