/**
 * The contract between the stack and the config API (sip/apiContract.ts): what the stack renders
 * and PUTs is what the API accepts, unchanged, and the secret files the bundle writes are the
 * ones the API reads.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSecrets } from "../../api/settings";
import { configSourceFromFile } from "../../bin/stackFile";
import { apiSettingsSchema, extensionSetSchema, trunkSetSchema } from "../../sip/apiContract";
import { MASKED_SECRETS, renderBundle } from "../../sip/bundle";
import { loadStack } from "../../sip/config";
import { extensionRecords } from "../../sip/deploy";
import { activeGatewaySpecs } from "../../sip/directory";
import { HOST_PATHS } from "../../sip/hostLayout";
import { buildModel } from "../../sip/stack";
import { PROJECT_DIR } from "../support/environment";
import { PROD_SECRETS, prodRawConfig } from "../support/stackConfig";

describe.each(["prod", "staging"])("the %s stack hands the config API what it accepts", (stack) => {
  const { model } = loadStack(configSourceFromFile(PROJECT_DIR, stack));

  it("the settings file parses as the API reads it, unchanged", () => {
    const file = renderBundle(model, model.host.previewAddresses, MASKED_SECRETS).find(
      (f) => f.path === HOST_PATHS.apiConfig,
    )!;
    const json = JSON.parse(file.content);
    expect(apiSettingsSchema.parse(json)).toEqual(json);
  });

  it("the trunk set and the extension set the deploy PUTs pass the API's body schemas, unchanged", () => {
    const passwords = Object.fromEntries(model.trunks.map((t) => [t.name, `trunk-password-${t.name}`]));
    const trunks = JSON.parse(JSON.stringify(activeGatewaySpecs(model, passwords)));
    expect(trunks.length).toBeGreaterThan(0);
    expect(trunkSetSchema.parse(trunks)).toEqual(trunks);
    const credentials = Object.fromEntries(
      model.extensions.map((e) => [e.id, { password: `sip-password-${e.id}`, apiToken: `token-${e.id}` }]),
    );
    const extensions = JSON.parse(JSON.stringify(extensionRecords(model, credentials)));
    expect(extensions.length).toBeGreaterThan(0);
    expect(extensionSetSchema.parse(extensions)).toEqual(extensions);
  });
});

describe("the API's secret files", () => {
  it("are the files the bundle writes: the API reads back each secret the stack rendered", () => {
    const raw = prodRawConfig();
    raw.alerts = { webhook: "https://alerts.example.net/hooks/telephony" };
    const model = buildModel(raw, { stack: "prod", secretPaths: PROD_SECRETS });
    const secrets = {
      eslPassword: "esl-1",
      xmlCurlPassword: "xml-curl-2",
      fernetKey: "fernet-3",
      adminToken: "admin-4",
      alertsWebhookToken: "webhook-5",
    };
    const files = renderBundle(model, model.host.previewAddresses, { ...MASKED_SECRETS, ...secrets }).filter(
      (f) => dirname(f.path) === HOST_PATHS.apiSecrets,
    );
    const dir = mkdtempSync(join(tmpdir(), "api-secrets-"));
    try {
      for (const f of files) writeFileSync(join(dir, basename(f.path)), f.content, { mode: 0o600 });
      expect(readSecrets(dir)).toEqual(secrets);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
