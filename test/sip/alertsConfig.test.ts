/** alerts.webhook and secrets.alertsWebhookToken: what the stack renders for the config API. */
import { describe, expect, it } from "vitest";
import { HOST_PATHS } from "../../sip/hostLayout";
import { apiSettings, MASKED_SECRETS, renderBundle } from "../../sip/bundle";
import { buildModel } from "../../sip/stack";
import { parseSettings } from "../../api/settings";
import { PROD_SECRETS, problemsAfter, prodModel, prodRawConfig } from "../support/stackConfig";

// The primary addresses of the host this project replaces (the stack renders with them when it has no deployed ones).
const HOST_ADDRESSES = { ipv4: "46.4.96.105", ipv6: "2a01:4f8:140:829d::2" };
const TOKEN_FILE = `${HOST_PATHS.apiSecrets}/alerts_webhook_token`;

function withAlerts(alerts: Record<string, unknown>) {
  const raw = prodRawConfig();
  raw.alerts = alerts;
  return buildModel(raw, { stack: "prod", secretPaths: PROD_SECRETS });
}

describe("trunk alerts in the stack", () => {
  it("renders none by default: no alerts in the API's settings, no token file", () => {
    const model = prodModel();
    expect(apiSettings(model, HOST_ADDRESSES).alerts).toBeUndefined();
    expect(renderBundle(model, HOST_ADDRESSES, MASKED_SECRETS).some((f) => f.path === TOKEN_FILE)).toBe(false);
  });

  it("passes alerts.webhook and the hold time to the API, and the token as a 0600 secret file the API reads", () => {
    const model = withAlerts({ webhook: "https://alerts.example.net/hooks/telephony" });
    const settings = apiSettings(model, HOST_ADDRESSES);
    expect(settings.alerts).toEqual({ webhook: "https://alerts.example.net/hooks/telephony", holdSeconds: 120 });
    expect(parseSettings(JSON.parse(JSON.stringify(settings)), "rendered")).toEqual(settings);
    const token = renderBundle(model, HOST_ADDRESSES, { ...MASKED_SECRETS, alertsWebhookToken: "hook-secret" }).find(
      (f) => f.path === TOKEN_FILE,
    )!;
    expect(token).toMatchObject({
      content: "hook-secret",
      mode: "0600",
      secret: true,
      reload: { kind: "api-restart" },
    });
  });

  it("refuses a webhook that is not an http(s) URL, naming the key", () => {
    const problems = problemsAfter((raw) => (raw.alerts = { webhook: "ftp://alerts.example.net/x" }));
    expect(problems.map((p) => p.key)).toContain("alerts.webhook");
  });
});
