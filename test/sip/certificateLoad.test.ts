/**
 * How a new certificate reaches Sofia (reload class tls, sip/reload.ts): the rendered shell run
 * against a `docker` stand-in that plays FreeSWITCH's fs_cli replies (`version short`,
 * `reloadcert`, `show calls count`, `sofia profile <p> restart`) and logs every call. The packaged
 * image gets `reloadcert` outright; an image of the operator's is asked its version, and only
 * 1.11.2 or later gets `reloadcert`, the rest the drained profile restart. Whatever it does, it says.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ACME_PATHS, FREESWITCH_CONTAINER } from "../../sip/hostLayout";
import { MASKED_SECRETS, renderBundle } from "../../sip/bundle";
import { disruption, RELOADCERT_SINCE, reloadCommand, type CertificateLoad, type ReloadClass } from "../../sip/reload";
import { certificateLoad } from "../../sip/render/tls";
import { buildModel } from "../../sip/stack";
import { summarize } from "../../sip/summary";
import { PROD_SECRETS, prodRawConfig } from "../support/stackConfig";

const PROFILES = ["internal", "internal-ipv4"];
const tls = (load: CertificateLoad): ReloadClass => ({ kind: "tls", profiles: PROFILES, drainSeconds: 30, load });

/** What fs_cli prints for `reloadcert` on 1.11.x (mod_commands' reload_cert_function) and on 1.10. */
const RELOADCERT_OK = "+OK cert reload event sent";
const RELOADCERT_UNKNOWN = "-ERR reloadcert Command not found!";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs `script` (bash, strict mode, as the renewal job and the deploy run it) with a `docker` that
 * answers `version short` with `version` (undefined: the container does not answer) and
 * `reloadcert` with `reloadcertReply`; no call is up, and every profile restart is taken.
 */
function runWithFreeswitch(script: string, version: string | undefined, reloadcertReply = RELOADCERT_OK) {
  const dir = mkdtempSync(join(tmpdir(), "certificate-load-"));
  dirs.push(dir);
  mkdirSync(join(dir, "bin"));
  const docker = [
    "#!/bin/sh",
    `echo "$*" >> ${dir}/docker.log`,
    'case "$*" in',
    `  *"fs_cli -x version short") ${version === undefined ? 'echo "Error response from daemon: container is not running" >&2; exit 1' : `printf '%s\\n\\n' '${version}'`} ;;`,
    `  *"fs_cli -x reloadcert") printf '%s\\n\\n' '${reloadcertReply}' ;;`,
    `  *"fs_cli -x show calls count") printf '\\n0 total.\\n\\n' ;;`,
    `  *"fs_cli -x sofia profile "*" restart") echo "Reload XML [Success]" ;;`,
    "esac",
    "",
  ].join("\n");
  writeFileSync(join(dir, "bin", "docker"), docker);
  chmodSync(join(dir, "bin", "docker"), 0o755);
  const result = spawnSync("bash", ["-c", `set -euo pipefail\n${script}`], {
    encoding: "utf8",
    env: { ...process.env, PATH: `${join(dir, "bin")}:${process.env.PATH}` },
    timeout: 20_000,
  });
  const log = existsSync(join(dir, "docker.log"))
    ? readFileSync(join(dir, "docker.log"), "utf8").trim().split("\n")
    : [];
  const fsCli = log
    .map((l) => l.replace(`exec ${FREESWITCH_CONTAINER} fs_cli -x `, ""))
    .filter((l) => l !== "show calls count");
  return {
    status: result.status,
    output: result.stdout + result.stderr,
    fsCli,
    drained: log.some((l) => l.endsWith("show calls count")),
  };
}

const RESTARTS = PROFILES.map((p) => `sofia profile ${p} restart`);

describe("the packaged image (FreeSWITCH 1.11.2): reloadcert, known at render time", () => {
  it("loads the certificate with reloadcert: no version asked, no drain, no profile restart", () => {
    const r = runWithFreeswitch(reloadCommand(tls("reloadcert"), { ufwScript: "" }), "1.11.2");
    expect(r.status, r.output).toBe(0);
    expect(r.fsCli).toEqual(["reloadcert"]);
    expect(r.drained).toBe(false);
    expect(r.output).toContain(
      "certificate loaded with reloadcert, no profile restarted: new TLS connections on internal, internal-ipv4 get it, connections up keep the old one until they reconnect",
    );
  });

  it("falls back to the drained restart, and says why, when FreeSWITCH does not accept reloadcert", () => {
    // FreeSWITCH often answers a failure without -ERR: anything but its success reply is a refusal.
    for (const reply of [RELOADCERT_UNKNOWN, "", "Command not found"]) {
      const r = runWithFreeswitch(reloadCommand(tls("reloadcert"), { ufwScript: "" }), "1.11.2", reply);
      expect(r.status, r.output).toBe(0);
      expect(r.fsCli, reply).toEqual(["reloadcert", ...RESTARTS]);
      expect(r.drained).toBe(true);
      expect(r.output).toContain(
        `reloadcert was not accepted (${reply || "no reply"}): restarting internal, internal-ipv4 instead, drained`,
      );
      expect(r.output).toContain("TLS profiles internal, internal-ipv4 restarted (drained) to load the certificate");
    }
  });

  it("tells the preview that nothing drops", () => {
    expect(disruption(tls("reloadcert"))).toMatch(
      /^none: reloadcert loads the certificate into the running TLS\/WSS profiles/,
    );
  });
});

describe("an image of the operator's (freeswitch.image): decided on the host by the version it reports", () => {
  const script = reloadCommand(tls("by-reported-version"), { ufwScript: "" });

  // A release build answers `version short` with its tag on the micro version: "1.10.12-release".
  it.each([
    ["1.11.2-release", "1.11.2"],
    ["1.11.2", "1.11.2"],
    ["1.11.10-release", "1.11.10"],
    ["1.12.0-dev", "1.12.0"],
    ["2.0.0", "2.0.0"],
  ])("FreeSWITCH answering %s: reloadcert, no drain, no restart", (reply, version) => {
    const r = runWithFreeswitch(script, reply);
    expect(r.status, r.output).toBe(0);
    expect(r.fsCli).toEqual(["version short", "reloadcert"]);
    expect(r.drained).toBe(false);
    expect(r.output).toContain(
      `FreeSWITCH ${version} has reloadcert (${RELOADCERT_SINCE} or later): no profile restart`,
    );
    expect(r.output).toContain("certificate loaded with reloadcert");
  });

  // 1.11.1 has the command, but its Sofia honours it only when built against sofia-sip 1.13.18.
  it.each([
    ["1.10.12-release", "1.10.12"],
    ["1.10.7", "1.10.7"],
    ["1.11.1-release", "1.11.1"],
    ["1.11.0", "1.11.0"],
  ])("FreeSWITCH answering %s: the drained restart of the TLS profiles, never reloadcert", (reply, version) => {
    const r = runWithFreeswitch(script, reply, RELOADCERT_UNKNOWN);
    expect(r.status, r.output).toBe(0);
    expect(r.fsCli).toEqual(["version short", ...RESTARTS]);
    expect(r.drained).toBe(true);
    expect(r.output).toContain(
      `FreeSWITCH ${version} has no reloadcert that reaches Sofia (${RELOADCERT_SINCE} or later): restarting internal, internal-ipv4, drained`,
    );
    expect(r.output).toContain("TLS profiles internal, internal-ipv4 restarted (drained) to load the certificate");
  });

  it("restarts (drained) when the version cannot be read: no answer, or a reply that is not a version", () => {
    for (const version of [
      undefined,
      "-ERR no reply",
      "FreeSWITCH Version 1.11.2-release~64bit (-release 64bit)",
      "1.11",
      "1.11.2 1.10.12",
    ]) {
      const r = runWithFreeswitch(script, version);
      expect(r.status, r.output).toBe(0);
      expect(r.fsCli, String(version)).toEqual(["version short", ...RESTARTS]);
      expect(r.output).toContain("FreeSWITCH of unknown version has no reloadcert that reaches Sofia");
    }
  });

  it("tells the preview it is decided on the host, and what each side of 1.11.2 gets", () => {
    expect(disruption(tls("by-reported-version"))).toBe(
      "decided on the host by the version the image reports: from FreeSWITCH 1.11.2 none (reloadcert); before it, waits up to 30 s for calls to end, then calls still up and registrations on internal, internal-ipv4 drop (profile restart to load the certificate)",
    );
  });
});

describe("the stack decides which", () => {
  const model = (image?: string) => {
    const raw = prodRawConfig();
    if (image) raw.freeswitch = { ...raw.freeswitch, image };
    raw.tls = {
      mode: "acme",
      challenge: "http-01",
      email: "ops@example.org",
      acmeServer: "https://acme.example.org/directory",
    };
    return buildModel(raw, { stack: "prod", secretPaths: PROD_SECRETS });
  };
  const OWN_IMAGE = `example/freeswitch@sha256:${"ab".repeat(32)}`;

  it("the packaged image reloads with reloadcert; an image of the operator's asks its version", () => {
    expect(certificateLoad(model())).toBe("reloadcert");
    expect(certificateLoad(model(OWN_IMAGE))).toBe("by-reported-version");
  });

  it("npm start's summary says which a renewal will do", () => {
    const summary = (image?: string) => {
      const m = model(image);
      const addresses = { ipv4: "192.0.2.10", ipv6: "2001:db8::10" };
      return summarize(m, addresses, renderBundle(m, addresses, MASKED_SECRETS), {
        addressSource: "test",
        outDir: "out/prod",
      });
    };
    expect(summary()).toContain(
      "\n  a new certificate (a renewal): none: reloadcert loads the certificate into the running TLS/WSS profiles;",
    );
    expect(summary()).toContain("Disruptive restarts (FreeSWITCH container, Sofia profiles): ");
    expect(summary(OWN_IMAGE)).toContain(
      "\n  a new certificate (a renewal): decided on the host by the version the image reports: from FreeSWITCH 1.11.2 none (reloadcert); before it, waits up to 300 s",
    );
    expect(summary(OWN_IMAGE)).toContain(
      "Disruptive restarts (FreeSWITCH container, Sofia profiles, TLS profiles on a FreeSWITCH without reloadcert): ",
    );
  });

  it("the ACME renewal job runs that choice, only after a changed certificate is installed", () => {
    const renewal = (image?: string) =>
      renderBundle(model(image), { ipv4: "192.0.2.10", ipv6: "2001:db8::10" }, MASKED_SECRETS).find(
        (f) => f.path === ACME_PATHS.script,
      )!.content;
    const packaged = renewal();
    expect(packaged).toContain("fs_cli -x 'reloadcert'");
    expect(packaged).not.toContain("version short");
    const own = renewal(OWN_IMAGE);
    expect(own).toContain("fs_cli -x 'version short'");
    for (const script of [packaged, own])
      expect(script.indexOf("reloadcert")).toBeGreaterThan(script.indexOf('mv -f "$new"'));
  });
});
