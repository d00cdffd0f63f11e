import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MASKED_SECRETS, renderBundle } from "../../sip/bundle";
import { fileGroups, filesPayload, parseFilesPayload, writeFilesCommand } from "../../sip/deploy";
import type { RenderedFile } from "../../sip/renderedFile";
import { prodModel } from "../support/stackConfig";

// The primary addresses of the host this project replaces (the stack renders with them when it has no deployed ones).
const HOST_ADDRESSES = { ipv4: "46.4.96.105", ipv6: "2a01:4f8:140:829d::2" };

describe("grouping the bundle by reload class", () => {
  const groups = fileGroups(renderBundle(prodModel(), HOST_ADDRESSES, MASKED_SECRETS));
  const byName = Object.fromEntries(groups.map((g) => [g.name, g]));

  it("gives each reload class one group, in a stable order", () => {
    expect(groups.map((g) => g.name)).toEqual([
      "acl",
      "acme",
      "api-restart",
      "dialplan",
      "fail2ban",
      "freeswitch-restart",
      "host-firewall",
      "host-maintenance",
      "profile-external-ipv4",
      "profile-internal",
      "profile-internal-ipv4",
    ]);
  });

  it("marks exactly the groups holding secret files as secret", () => {
    expect(groups.filter((g) => g.secret).map((g) => g.name)).toEqual(["acme", "api-restart", "freeswitch-restart"]);
  });

  it("puts the ACL alone in its group, so an ACL change runs only reloadacl", () => {
    expect(byName.acl.paths).toEqual(["/srv/telephony/freeswitch/conf/autoload_configs/acl.conf.xml"]);
    expect(writeFilesCommand(byName.acl)).toContain("fs_cli -x 'reloadacl'");
    expect(writeFilesCommand(byName.acl)).not.toContain("docker restart");
  });

  it("restarts only the one profile whose file changed", () => {
    const script = writeFilesCommand(byName["profile-internal"]);
    expect(script).toContain("sofia profile internal restart");
    expect(script).not.toContain("external-ipv4");
  });

  it("depends on paths only, so addresses and secrets do not change the grouping", () => {
    const other = fileGroups(
      renderBundle(prodModel(), { ipv4: "203.0.113.7", ipv6: "2001:db8::1" }, { ...MASKED_SECRETS, eslPassword: "x" }),
    );
    expect(other).toEqual(groups);
  });
});

describe("writing a group's files on the host", () => {
  it("writes each file byte for byte with its mode, through the stdin payload", () => {
    const root = mkdtempSync(join(tmpdir(), "host-"));
    const files: RenderedFile[] = [
      {
        path: `${root}/conf/a.xml`,
        content: `<param name="x" value="$\${esl_password}"/>\n'quoted' "double"\n`,
        reload: { kind: "acl" },
        secret: false,
        mode: "0644",
      },
      { path: `${root}/secrets/b`, content: "s3cret with spaces", reload: { kind: "acl" }, secret: true, mode: "0600" },
      {
        path: `${root}/conf/no-final-newline`,
        content: "äöü €\n\nlast line",
        reload: { kind: "acl" },
        secret: false,
        mode: "0644",
      },
      { path: `${root}/conf/empty`, content: "", reload: { kind: "acl" }, secret: false, mode: "0644" },
    ];
    const [group] = fileGroups(files);
    const run = spawnSync("bash", ["-c", writeFilesCommand(group)], {
      input: filesPayload(files, group.paths),
      // No FreeSWITCH container runs here: the reload is skipped, as on a first deploy.
      encoding: "utf8",
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    for (const f of files) {
      expect(readFileSync(f.path, "utf8")).toBe(f.content);
      expect((statSync(f.path).mode & 0o777).toString(8)).toBe(f.mode.slice(1));
    }
  });

  it("carries contents readably, so a preview diff shows the changed lines", () => {
    const files = renderBundle(prodModel(), HOST_ADDRESSES, MASKED_SECRETS);
    const acl = fileGroups(files).find((g) => g.name === "acl")!;
    const payload = filesPayload(files, acl.paths);
    expect(payload).toContain('<node type="allow" cidr="92.197.176.0/24"/>');
    expect(parseFilesPayload(payload).map((f) => f.content)).toEqual([
      files.find((f) => f.path === acl.paths[0])!.content,
    ]);
  });

  it("keeps file contents out of the command line", () => {
    const files = renderBundle(prodModel(), HOST_ADDRESSES, { ...MASKED_SECRETS, eslPassword: "esl-S3cret" });
    for (const group of fileGroups(files)) expect(writeFilesCommand(group)).not.toContain("esl-S3cret");
  });
});
