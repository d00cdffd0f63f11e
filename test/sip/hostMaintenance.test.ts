/**
 * Host upkeep: Docker's logs are capped and only Debian's security updates install themselves.
 * The apt configuration is read by the real apt-config, together with the file Debian's
 * unattended-upgrades package installs, so the `#clear` that drops Debian's other origins is
 * checked as apt reads it.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HOST_MAINTENANCE_PATHS } from "../../sip/hostLayout";
import { MASKED_SECRETS, renderBundle } from "../../sip/bundle";
import { fileGroups, filesPayload, writeFilesCommand } from "../../sip/deploy";
import { renderAutoUpgrades, renderUnattendedUpgrades } from "../../sip/render/hostMaintenance";
import type { RenderedFile } from "../../sip/renderedFile";
import { prodModel } from "../support/stackConfig";

/**
 * Debian bookworm's unattended-upgrades 2.9.1+nmu3, /usr/share/unattended-upgrades/50unattended-upgrades
 * (its postinst copies it to /etc/apt/apt.conf.d/): allows the stable release and its security archive.
 */
const DEBIAN_DEFAULTS = join(__dirname, "..", "fixtures", "debian-50unattended-upgrades");

const bundle = renderBundle(prodModel(), { ipv4: "203.0.113.7", ipv6: "2001:db8::2" }, MASKED_SECRETS);
const fileAt = (path: string) => bundle.find((f) => f.path === path)!;

/** `apt-config dump` over a conf.d holding `files` (name → content), as apt on the host reads it. */
function aptConfig(files: Record<string, string>): string[] {
  const dir = mkdtempSync(join(tmpdir(), "ops-apt-"));
  mkdirSync(join(dir, "apt.conf.d"));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, "apt.conf.d", name), content);
  writeFileSync(join(dir, "apt.conf"), `Dir::Etc::Parts "${join(dir, "apt.conf.d")}";\n`);
  const run = spawnSync("apt-config", ["dump"], {
    env: { ...process.env, APT_CONFIG: join(dir, "apt.conf") },
    encoding: "utf8",
  });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout.split("\n");
}
const originsOf = (dump: string[]) =>
  dump.filter((l) => l.startsWith("Unattended-Upgrade::Origins-Pattern:: ")).map((l) => l.replace(/^[^"]*"|";$/g, ""));

describe("host upkeep pushed with the stack's files", () => {
  it("caps every container's json-file log and keeps containers running through a dockerd restart", () => {
    const daemon = fileAt(HOST_MAINTENANCE_PATHS.dockerDaemon);
    expect(daemon.reload).toEqual({ kind: "host-maintenance" });
    const config = JSON.parse(daemon.content);
    expect(config["log-driver"]).toBe("json-file");
    expect(config["log-opts"]["max-size"]).toMatch(/^\d+m$/);
    expect(Number(config["log-opts"]["max-file"])).toBeGreaterThanOrEqual(2);
    expect(config["live-restore"]).toBe(true);
  });

  it("installs only Debian's security updates, daily, and never reboots by itself", () => {
    expect(fileAt(HOST_MAINTENANCE_PATHS.unattendedUpgrades).content).toBe(renderUnattendedUpgrades());
    const withDebianDefaults = aptConfig({
      "20auto-upgrades": renderAutoUpgrades(),
      "50unattended-upgrades": readFileSync(DEBIAN_DEFAULTS, "utf8"),
      "52telephony-unattended-upgrades": renderUnattendedUpgrades(),
    });
    expect(originsOf(withDebianDefaults)).toEqual([
      "origin=Debian,codename=${distro_codename}-security,label=Debian-Security",
    ]);
    expect(withDebianDefaults).toEqual(
      expect.arrayContaining([
        'APT::Periodic::Update-Package-Lists "1";',
        'APT::Periodic::Unattended-Upgrade "1";',
        'Unattended-Upgrade::Automatic-Reboot "false";',
      ]),
    );
  });

  it("would inherit Debian's stable-release origin without the #clear (the fixture is what the check rests on)", () => {
    const origins = originsOf(
      aptConfig({
        "50unattended-upgrades": readFileSync(DEBIAN_DEFAULTS, "utf8"),
        "52x": renderUnattendedUpgrades().replace(/^#clear.*\n/m, ""),
      }),
    );
    expect(origins).toContain("origin=Debian,codename=${distro_codename},label=Debian");
  });

  it("applies them by installing unattended-upgrades when missing and reloading dockerd, touching no container", () => {
    const root = mkdtempSync(join(tmpdir(), "ops-host-"));
    const bin = join(root, "bin");
    mkdirSync(bin);
    const calls = join(root, "calls");
    // Stand-ins for the host's tools that record how they were called; dpkg-query says "not installed".
    for (const tool of ["apt-get", "systemctl", "docker", "dpkg-query"]) {
      writeFileSync(
        join(bin, tool),
        `#!/bin/sh\necho "${tool} $*" >> ${calls}\n${tool === "dpkg-query" ? "exit 1\n" : ""}`,
      );
      chmodSync(join(bin, tool), 0o755);
    }
    const files: RenderedFile[] = bundle
      .filter((f) => f.reload.kind === "host-maintenance")
      .map((f) => ({ ...f, path: join(root, f.path) }));
    expect(files.map((f) => f.path.slice(root.length)).sort()).toEqual(Object.values(HOST_MAINTENANCE_PATHS).sort());
    const [group] = fileGroups(files);
    const run = spawnSync("bash", ["-c", writeFilesCommand(group)], {
      input: filesPayload(files, group.paths),
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      encoding: "utf8",
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    for (const f of files) expect(readFileSync(f.path, "utf8")).toBe(f.content);
    const log = readFileSync(calls, "utf8").trim().split("\n");
    expect(log).toContain("apt-get -o DPkg::Lock::Timeout=300 install -y -q unattended-upgrades");
    expect(log).toContain("systemctl reload docker");
    expect(log.filter((l) => l.startsWith("docker "))).toEqual([]);
  });
});
