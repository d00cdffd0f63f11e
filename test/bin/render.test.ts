import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { renderStackToDir } from "../../bin/render";
import { MASK } from "../../sip/bundle";
import { sofiaCallerIdName } from "../../sip/directory";
import { elements, elementWith, paramMap, parseXml } from "../support/xml";
import { PROJECT_DIR } from "../support/environment";

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((p) => statSync(join(dir, p)).isFile())
    .sort();
}

function snapshotTree(dir: string): Record<string, string> {
  return Object.fromEntries(listFiles(dir).map((p) => [p, readFileSync(join(dir, p), "utf8")]));
}

describe("npm start (offline render of a stack)", () => {
  it("writes every pushed file under out/<stack>/ at its host path", () => {
    const out = mkdtempSync(join(tmpdir(), "render-"));
    const { outDir } = renderStackToDir(PROJECT_DIR, "prod", out);
    const files = listFiles(outDir).map((p) => "/" + relative(outDir, join(outDir, p)));
    expect(files).toEqual(
      expect.arrayContaining([
        "/srv/telephony/freeswitch/conf/sip_profiles/external-ipv4.xml",
        "/srv/telephony/freeswitch/conf/sip_profiles/internal.xml",
        "/srv/telephony/freeswitch/conf/autoload_configs/acl.conf.xml",
        "/srv/telephony/freeswitch/conf/autoload_configs/xml_curl.conf.xml",
        "/srv/telephony/freeswitch/conf/autoload_configs/event_socket.conf.xml",
        "/srv/telephony/freeswitch/conf/autoload_configs/switch.conf.xml",
        "/srv/telephony/freeswitch/conf/dialplan/public.xml",
        "/srv/telephony/host/ufw.sh",
        "/etc/fail2ban/jail.d/freeswitch-telephony.conf",
        "/cloud-init/user-data.yaml",
      ]),
    );
  });

  it("writes the gateway documents the config API serves for each profile, and each extension's user document, passwords masked", () => {
    const { outDir } = renderStackToDir(PROJECT_DIR, "prod", mkdtempSync(join(tmpdir(), "render-")));
    expect(listFiles(join(outDir, "config-api"))).toEqual([
      "gateways/external-ipv4.xml",
      "gateways/internal-ipv4.xml",
      "gateways/internal.xml",
      "users/100.xml",
      "users/200.xml",
    ]);
    const internal = parseXml(readFileSync(join(outDir, "config-api/gateways/internal.xml"), "utf8"));
    const oneandone = paramMap(elementWith(internal, "gateway", "name", "oneandone"));
    expect(oneandone).toMatchObject({
      register: "true",
      realm: "sip.1und1.de",
      proxy: "sip.1und1.de",
      password: MASK,
      username: "493455664337",
    });
    const external = parseXml(readFileSync(join(outDir, "config-api/gateways/external-ipv4.xml"), "utf8"));
    expect(paramMap(elementWith(external, "gateway", "name", "plusnet"))).toMatchObject({
      register: "false",
      "from-user": "+493455667290",
      "outbound-proxy": "92.197.176.16",
    });
    expect(elements(external, "gateway")).toHaveLength(1);
    const user = parseXml(readFileSync(join(outDir, "config-api/users/100.xml"), "utf8"));
    expect(paramMap(elements(user, "user")[0]).password).toBe(MASK);
    expect(paramMap(user, "variable").effective_caller_id_name).toBe(sofiaCallerIdName("Reception / IVR"));
  });

  it("renders byte-identical files on a second run", () => {
    const a = renderStackToDir(PROJECT_DIR, "prod", mkdtempSync(join(tmpdir(), "render-a-")));
    const b = renderStackToDir(PROJECT_DIR, "prod", mkdtempSync(join(tmpdir(), "render-b-")));
    expect(snapshotTree(b.outDir)).toEqual(snapshotTree(a.outDir));
  });

  it("writes secret files masked and with mode 0600", () => {
    const { outDir } = renderStackToDir(PROJECT_DIR, "prod", mkdtempSync(join(tmpdir(), "render-")));
    const secretsXml = join(outDir, "srv/telephony/freeswitch/conf/secrets.xml");
    expect(readFileSync(secretsXml, "utf8")).toContain(`esl_password=${MASK}`);
    expect(statSync(secretsXml).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(outDir, "srv/telephony/api/secrets/fernet_key"), "utf8")).toBe(MASK);
  });

  it("prints a summary with trunks, firewall and files, and says where the addresses came from", () => {
    const run = spawnSync("npx", ["tsx", "bin/render.ts", "prod"], { cwd: PROJECT_DIR, encoding: "utf8" });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/plusnet\s+plusnet\s+external-ipv4\s+ipv4\s+IP \(ping 30 s\)/);
    // Each extension's outside calls: the trunk that owns its caller ID, presenting it.
    expect(run.stdout).toMatch(/\n {2}100\s+plusnet\s+\+493455667290\n {2}200\s+oneandone\s+\+493455630488\n/);
    expect(run.stdout).toMatch(/oneandone\s+1und1\s+internal\s+ipv6\s+REGISTER/);
    expect(run.stdout).toContain("preview addresses");
    expect(run.stdout).toContain("must whitelist 46.4.96.105");
    expect(run.stdout).toMatch(/udp\s+16384-16484\s+0\.0\.0\.0\/0, ::\/0/);
    expect(run.stdout).toContain("TLS: ACME (dns-01) certificate for sip.xynap.de");
    expect(run.stdout).toContain("Verification after each update: on");
    // Each disruptive restart waits for calls to end first, and the file table says so per class.
    expect(run.stdout).toContain(
      "Disruptive restarts (FreeSWITCH container, Sofia profiles): each waits up to 300 s for calls to end first",
    );
    // The packaged FreeSWITCH 1.11.2 loads a renewed certificate with reloadcert: no restart at all.
    expect(run.stdout).toContain(
      "  a new certificate (a renewal): none: reloadcert loads the certificate into the running TLS/WSS profiles; new TLS connections get it",
    );
    expect(run.stdout).toMatch(
      /switch\.conf\.xml\s+0644\s+freeswitch-restart: waits up to 300 s for calls to end, then every call still up drops/,
    );
    expect(run.stdout).toMatch(
      /sip_profiles\/internal\.xml\s+0644\s+profile:internal: waits up to 300 s for calls to end, then /,
    );
    expect(run.stdout).toMatch(/acl\.conf\.xml\s+0644\s+acl: none \(reloadacl\)/);
    expect(run.stdout).toContain("Gateway documents the config API serves per profile");
    expect(run.stdout).toMatch(/external-ipv4\s+plusnet\s+config-api\/gateways\/external-ipv4\.xml/);
    expect(run.stdout).toMatch(/internal\s+oneandone\s+config-api\/gateways\/internal\.xml/);
  });

  it("fails with every problem named by key, and writes nothing, for a broken stack", () => {
    const dir = mkdtempSync(join(tmpdir(), "project-"));
    cpSync(join(PROJECT_DIR, "Pulumi.prod.yaml"), join(dir, "Pulumi.broken.yaml"));
    const yaml = readFileSync(join(dir, "Pulumi.broken.yaml"), "utf8").replace(
      "preset: 1und1",
      "preset: 1und1\n      realm: 1und1.de",
    );
    writeFileSync(join(dir, "Pulumi.broken.yaml"), yaml);
    const out = mkdtempSync(join(tmpdir(), "render-"));
    expect(() => renderStackToDir(dir, "broken", out)).toThrow(/telephony:trunks\.oneandone\.realm: .*parent domain/);
    expect(listFiles(out)).toEqual([]);
  });

  it("removes the previous out/<stack> when the stack no longer renders, so no stale bundle is left to review", () => {
    const dir = mkdtempSync(join(tmpdir(), "project-"));
    const stackFile = join(dir, "Pulumi.edited.yaml");
    writeFileSync(
      stackFile,
      readFileSync(join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8").replace(
        "hostnameOwnedBy: [prod]",
        "hostnameOwnedBy: [edited]",
      ),
    );
    const out = mkdtempSync(join(tmpdir(), "render-"));
    const { outDir } = renderStackToDir(dir, "edited", out);
    expect(listFiles(outDir).length).toBeGreaterThan(10);
    writeFileSync(
      stackFile,
      readFileSync(stackFile, "utf8").replace("preset: 1und1", "preset: 1und1\n      realm: 1und1.de"),
    );
    expect(() => renderStackToDir(dir, "edited", out)).toThrow(/parent domain/);
    expect(readdirSync(out)).toEqual([]);
  });

  it("prints its usage for --help instead of looking for a stack called --help", () => {
    const run = spawnSync(process.execPath, [require.resolve("tsx/cli"), "bin/render.ts", "--help"], {
      cwd: PROJECT_DIR,
      encoding: "utf8",
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^usage: npm start \[-- <stack>\]/);
    expect(run.stdout + run.stderr).not.toContain("Pulumi.--help.yaml");
    const bad = spawnSync(process.execPath, [require.resolve("tsx/cli"), "bin/render.ts", "--stack=prod"], {
      cwd: PROJECT_DIR,
      encoding: "utf8",
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("unknown option --stack=prod");
  });

  it("exits non-zero with the problems on stderr from the command line", () => {
    const run = spawnSync("npx", ["tsx", "bin/render.ts", "does-not-exist"], { cwd: PROJECT_DIR, encoding: "utf8" });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("there is no Pulumi.does-not-exist.yaml");
    expect(run.stderr).toMatch(/stacks here: .*prod/);
  });
});
