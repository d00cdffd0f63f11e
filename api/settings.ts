/**
 * The API's configuration: the non-secret settings file the stack renders (sip/bundle.ts
 * `apiSettings()`) and the secret files beside it, one value per file, mode 0600.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import type { ApiSettings } from "../sip/bundle";
import { MAX_DIRECTORY_CACHE_SECONDS } from "../sip/schema";

/** Where the settings file is mounted in the container; API_CONFIG overrides it. */
export const DEFAULT_CONFIG_PATH = "/etc/telephony-api/config.json";

const port = z.number().int().min(1).max(65535);

const settingsSchema = z.strictObject({
  listen: z.strictObject({ host: z.string().min(1), port }),
  metricsListen: z.strictObject({ host: z.string().min(1), port: z.number().int().min(0).max(65535) }),
  domain: z.string().min(1),
  directoryCacheSeconds: z.number().int().min(0).max(MAX_DIRECTORY_CACHE_SECONDS),
  profiles: z.array(z.string().regex(/^[A-Za-z0-9_.-]+$/)).min(1),
  esl: z.strictObject({ host: z.string().min(1), port }),
  xmlCurlUser: z.string().min(1),
  xmlCurlPath: z.string().startsWith("/"),
  storePath: z.string().min(1),
  secretsDir: z.string().min(1),
  alerts: z.strictObject({ webhook: z.url({ protocol: /^https?$/ }), holdSeconds: z.number().int().min(0) }).optional(),
});

// The file is rendered from ApiSettings: keep the two shapes in lock-step at compile time
// (a parsed file is an ApiSettings, and both name the same keys).
type SameKeys<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : never) : never;
const settingsMatchBundle: z.output<typeof settingsSchema> extends ApiSettings ? SameKeys<z.output<typeof settingsSchema>, ApiSettings> : never = true;
void settingsMatchBundle;

export interface ApiSecrets {
  readonly eslPassword: string;
  readonly xmlCurlPassword: string;
  readonly fernetKey: string;
  readonly adminToken: string;
}

/** Secrets the API runs without. */
export interface ApiOptionalSecrets {
  /** Sent as the bearer token with each trunk alert (file alerts_webhook_token, when there is one). */
  readonly alertsWebhookToken?: string;
}
export const ALERTS_WEBHOOK_TOKEN_FILE = "alerts_webhook_token";

/** File names in the secrets dir, as sip/bundle.ts writes them. */
export const SECRET_FILES: Record<keyof ApiSecrets, string> = {
  eslPassword: "esl_password",
  xmlCurlPassword: "xml_curl_password",
  fernetKey: "fernet_key",
  adminToken: "admin_token",
};

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.API_CONFIG || DEFAULT_CONFIG_PATH;
}

export function parseSettings(json: unknown, source: string): ApiSettings {
  const parsed = settingsSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new ConfigError(`${source} is not a valid API settings file:\n  ${problems.join("\n  ")}`);
  }
  return parsed.data;
}

export function readSettingsFile(path: string): ApiSettings {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError(`cannot read the API settings file ${path} (set API_CONFIG to its path): ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${path} is not JSON: ${(e as Error).message}`);
  }
  return parseSettings(json, path);
}

export function readSecrets(dir: string): ApiSecrets & ApiOptionalSecrets {
  const read = (file: string): string => {
    const path = join(dir, file);
    let value: string;
    try {
      // Secrets may be written with or without a trailing newline; neither is part of the value.
      value = readFileSync(path, "utf8").trim();
    } catch (e) {
      throw new ConfigError(`cannot read secret ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (value.length === 0) throw new ConfigError(`secret ${path} is empty`);
    return value;
  };
  const alertsWebhookToken = existsSync(join(dir, ALERTS_WEBHOOK_TOKEN_FILE)) ? read(ALERTS_WEBHOOK_TOKEN_FILE) : undefined;
  return {
    eslPassword: read(SECRET_FILES.eslPassword),
    xmlCurlPassword: read(SECRET_FILES.xmlCurlPassword),
    fernetKey: read(SECRET_FILES.fernetKey),
    adminToken: read(SECRET_FILES.adminToken),
    ...(alertsWebhookToken ? { alertsWebhookToken } : {}),
  };
}
