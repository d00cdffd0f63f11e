/**
 * The API's configuration: the non-secret settings file the stack renders (sip/bundle.ts
 * `apiSettings()`) and the secret files beside it, one value per file, mode 0600.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  API_OPTIONAL_SECRET_FILES,
  API_SECRET_FILES,
  apiOptionalSecretsSchema,
  apiSecretsSchema,
  apiSettingsSchema,
  type ApiOptionalSecrets,
  type ApiSecrets,
  type ApiSettings,
} from "../sip/apiContract";
import { API_CONTAINER_PATHS } from "../sip/hostLayout";

/** Where the settings file is mounted in the container; API_CONFIG overrides it. */
export const DEFAULT_CONFIG_PATH = API_CONTAINER_PATHS.config;

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.API_CONFIG || DEFAULT_CONFIG_PATH;
}

export function parseSettings(json: unknown, source: string): ApiSettings {
  const parsed = apiSettingsSchema.safeParse(json);
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
    throw new ConfigError(
      `cannot read the API settings file ${path} (set API_CONFIG to its path): ${(e as Error).message}`,
    );
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
  const required = Object.fromEntries(Object.entries(API_SECRET_FILES).map(([key, file]) => [key, read(file)]));
  const optional = Object.fromEntries(
    Object.entries(API_OPTIONAL_SECRET_FILES).flatMap(([key, file]) =>
      existsSync(join(dir, file)) ? [[key, read(file)]] : [],
    ),
  );
  return { ...apiSecretsSchema.parse(required), ...apiOptionalSecretsSchema.parse(optional) };
}
