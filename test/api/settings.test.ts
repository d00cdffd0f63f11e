import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { API_SECRET_FILES } from "../../sip/apiContract";
import { HOST_PATHS } from "../../sip/hostLayout";
import { configPath, DEFAULT_CONFIG_PATH, readSecrets, readSettingsFile } from "../../api/settings";
import { configSourceFromFile } from "../../bin/stackFile";
import { MASKED_SECRETS, renderBundle } from "../../sip/bundle";
import { loadStack } from "../../sip/config";
import { settingsFor } from "../support/loopbackApi";
import { PROJECT_DIR } from "../support/environment";

describe("API settings and secrets files", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "config-api-settings-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("reads the settings file from API_CONFIG, else from the container's mount point", () => {
    expect(configPath({ API_CONFIG: "/srv/x.json" })).toBe("/srv/x.json");
    expect(configPath({})).toBe(DEFAULT_CONFIG_PATH);
  });

  it("reads the settings file the stack renders for the host (prod stack, sip/bundle.ts)", async () => {
    const { model } = loadStack(configSourceFromFile(PROJECT_DIR, "prod"));
    const rendered = renderBundle(model, model.host.previewAddresses, MASKED_SECRETS).find(
      (f) => f.path === HOST_PATHS.apiConfig,
    );
    await writeFile(join(dir, "config.json"), rendered!.content);
    const settings = readSettingsFile(join(dir, "config.json"));
    expect(settings).toMatchObject({
      listen: { host: "127.0.0.1", port: 8001 },
      xmlCurlPath: "/api/v1/sip/xml-curl",
      storePath: "/data/store.json",
      secretsDir: "/run/secrets",
    });
    expect(settings.profiles).toEqual(model.profiles.map((p) => p.name));
  });

  it("names the key that is wrong", async () => {
    await writeFile(
      join(dir, "config.json"),
      JSON.stringify({ ...settingsFor(dir, 8021), esl: { host: "127.0.0.1", port: 80210 } }),
    );
    expect(() => readSettingsFile(join(dir, "config.json"))).toThrow(/esl\.port/);
  });

  it("names the missing file and the variable that points to it", () => {
    expect(() => readSettingsFile(join(dir, "absent.json"))).toThrow(/absent\.json.*API_CONFIG/);
  });

  it("reads each secret from its own file, without a trailing newline", async () => {
    mkdirSync(join(dir, "secrets"));
    for (const file of Object.values(API_SECRET_FILES))
      await writeFile(join(dir, "secrets", file), `${file}-value\n`, { mode: 0o600 });
    expect(readSecrets(join(dir, "secrets"))).toEqual({
      eslPassword: "esl_password-value",
      xmlCurlPassword: "xml_curl_password-value",
      fernetKey: "fernet_key-value",
      adminToken: "admin_token-value",
    });
  });

  it("names a missing or empty secret file without printing any secret", async () => {
    mkdirSync(join(dir, "secrets"));
    await writeFile(join(dir, "secrets", "esl_password"), "esl-secret");
    expect(() => readSecrets(join(dir, "secrets"))).toThrow(/xml_curl_password: ENOENT/);
    await writeFile(join(dir, "secrets", "xml_curl_password"), "\n");
    expect(() => readSecrets(join(dir, "secrets"))).toThrow(/xml_curl_password is empty/);
  });
});
