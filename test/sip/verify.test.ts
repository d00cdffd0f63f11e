import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderVerifyScript, statusExpectations } from "../../sip/verify";
import { PROD_SECRETS, prodModel, prodRawConfig } from "../support/stackConfig";
import { buildModel } from "../../sip/stack";

/** `sofia status` as FreeSWITCH 1.10 prints it (tab-separated columns, padded names). */
function sofiaStatus(rows: [string, string, string, string][]): string {
  const sep = "=".repeat(97);
  const lines = rows.map(
    ([name, type, data, state]) => `${name.padStart(25)}\t${type}\t  ${data.padStart(40)}\t${state}`,
  );
  return [
    `${"Name".padStart(25)}\t   Type\t${"Data".padStart(42)}\tState`,
    sep,
    ...lines,
    sep,
    "2 profiles 0 aliases",
    "",
  ].join("\n");
}

const healthy: [string, string, string, string][] = [
  ["external-ipv4", "profile", "sip:mod_sofia@46.4.96.105:5060", "RUNNING (0)"],
  ["external-ipv4::plusnet", "gateway", "sip:+493455667290@sip.plusnet.de", "NOREG"],
  ["internal", "profile", "sip:mod_sofia@[2a01:4f8:140:829d::2]:5060", "RUNNING (0)"],
  ["internal", "profile", "sips:mod_sofia@[2a01:4f8:140:829d::2]:5061", "RUNNING (0) (TLS)"],
  ["internal::oneandone", "gateway", "sip:493455664337@sip.1und1.de", "REGED"],
  ["internal-ipv4", "profile", "sip:mod_sofia@46.4.96.105:5080", "RUNNING (0)"],
  ["internal-ipv4", "profile", "sip:mod_sofia@46.4.96.105:5061", "RUNNING (0) (TLS)"],
];

/** `sofia status gateway <name>` as FreeSWITCH 1.10 prints it (mod_sofia.c cmd_status), trimmed to the lines read. */
function gatewayStatus(status: string, pingState: string): string {
  const line = "=".repeat(97);
  return [
    line,
    "Name    \tplusnet",
    "Profile \texternal-ipv4",
    "PingFreq\t30",
    `PingState\t${pingState}`,
    "State   \tNOREG",
    `Status  \t${status}`,
    line,
    "",
  ].join("\n");
}
const plusnetAnswers = gatewayStatus("UP", "1/1/3");

/** Runs the rendered script with a stand-in for fs_cli that prints canned answers per command. */
function runVerify(status: string, model = prodModel(), plusnet = plusnetAnswers) {
  const dir = mkdtempSync(join(tmpdir(), "verify-"));
  writeFileSync(join(dir, "status.txt"), status);
  writeFileSync(join(dir, "plusnet.txt"), plusnet);
  const fsCli = join(dir, "fs_cli");
  writeFileSync(
    fsCli,
    `#!/usr/bin/env bash\ncase "$1" in\n  'sofia status') cat ${join(dir, "status.txt")} ;;\n  'sofia status gateway plusnet') cat ${join(dir, "plusnet.txt")} ;;\n  *) echo "Invalid Gateway!" ;;\nesac\n`,
  );
  chmodSync(fsCli, 0o755);
  const script = join(dir, "verify.sh");
  writeFileSync(script, renderVerifyScript(model, fsCli));
  chmodSync(script, 0o755);
  try {
    return spawnSync("bash", [script], {
      encoding: "utf8",
      env: { ...process.env, VERIFY_TIMEOUT: "0", VERIFY_INTERVAL: "0" },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("post-deploy verification", () => {
  it("expects profiles RUNNING, the REGISTER trunk REGED and the IP-auth trunk UP by OPTIONS ping", () => {
    expect(statusExpectations(prodModel()).map((e) => `${e.type} ${e.name} ${e.accept.join("|")}`)).toEqual([
      "profile external-ipv4 RUNNING",
      "profile internal RUNNING",
      "profile internal-ipv4 RUNNING",
      "gateway oneandone REGED",
      "ping plusnet UP",
    ]);
  });

  it("passes when every profile runs and every trunk is in its expected state", () => {
    const run = runVerify(sofiaStatus(healthy));
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });

  it("fails naming the REGISTER trunk that has not registered", () => {
    const run = runVerify(
      sofiaStatus(healthy.map((r) => (r[0] === "internal::oneandone" ? [r[0], r[1], r[2], "FAIL_WAIT"] : r))),
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("gateway oneandone: FAIL_WAIT, expected REGED");
    expect(run.stderr).not.toContain("plusnet");
  });

  it("fails naming the IP-auth trunk that stopped answering its OPTIONS pings (DOWN)", () => {
    const run = runVerify(sofiaStatus(healthy), prodModel(), gatewayStatus("DOWN", "1/0/3"));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("gateway plusnet: DOWN, expected UP");
    expect(run.stderr).not.toContain("oneandone");
  });

  it("does not count an IP-auth trunk as up before it has answered a single ping", () => {
    const run = runVerify(sofiaStatus(healthy), prodModel(), gatewayStatus("UP", "1/0/3"));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("gateway plusnet: UP-NEVER-ANSWERED, expected UP");
  });

  it("fails naming a profile that is down or missing", () => {
    const run = runVerify(sofiaStatus(healthy.filter((r) => r[0] !== "external-ipv4")));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("profile external-ipv4: missing, expected RUNNING");
  });

  it("fails when FreeSWITCH does not answer at all", () => {
    const run = runVerify("");
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/profile internal: missing/);
  });

  it("does not wait for a REGISTER trunk that is off in this stack (a clone)", () => {
    const raw = prodRawConfig();
    raw.host.hostname = "sip-staging.xynap.de";
    raw.host.hostnameOwnedBy = ["staging"];
    const staging = buildModel(raw, { stack: "staging", secretPaths: PROD_SECRETS });
    const run = runVerify(sofiaStatus(healthy.filter((r) => r[0] !== "internal::oneandone")), staging);
    expect(run.status).toBe(0);
  });
});
