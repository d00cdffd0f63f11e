import { describe, expect, it } from "vitest";
import { MASKED_SECRETS, renderBundle, type HostSecrets } from "../../sip/bundle";
import { inboundRules } from "../../sip/firewall";
import { ACME_PATHS, HOST_PATHS } from "../../sip/hostLayout";
import { renderUfwScript } from "../../sip/render/ufw";
import { reloadCommand } from "../../sip/reload";
import { paramMap, parseXml } from "../support/xml";
import { problemsAfter, prodModel, prodRawConfig, PROD_SECRETS } from "../support/stackConfig";
import { buildModel } from "../../sip/stack";
import { dnsTokenOf, secretPathsOf } from "../../sip/config";

// The primary addresses of the host this project replaces (the stack renders with them when it has no deployed ones).
const HOST_ADDRESSES = { ipv4: "46.4.96.105", ipv6: "2a01:4f8:140:829d::2" };
const internalParams = (files: ReturnType<typeof renderBundle>) =>
  paramMap(parseXml(files.find((f) => f.path === `${HOST_PATHS.freeswitchConf}/sip_profiles/internal.xml`)!.content));

function modelWithTls(tls: Record<string, unknown>, mutate: (raw: Record<string, any>) => void = () => {}) {
  const raw = prodRawConfig();
  raw.tls = tls;
  mutate(raw);
  return buildModel(raw, { stack: "prod", secretPaths: PROD_SECRETS });
}

const withoutTlsListeners = (raw: Record<string, any>) => {
  delete raw.profiles.internal.tlsPort;
  delete raw.profiles.internal.wssPort;
  raw.trunks.plusnet.signaling = [{ port: 5060, protocol: "udp" }];
};

describe("the internal profile's TLS parameters", () => {
  it("carry tls-sip-port 5061, wss-binding :7443 and the tls directory when a certificate is configured (ACME)", () => {
    const p = internalParams(renderBundle(prodModel(), HOST_ADDRESSES, MASKED_SECRETS));
    expect(p).toMatchObject({
      tls: "true",
      "tls-sip-port": "5061",
      "wss-binding": ":7443",
      "tls-cert-dir": "/etc/freeswitch/tls",
    });
  });

  it("carry them for a self-signed certificate too", () => {
    const p = internalParams(renderBundle(modelWithTls({ mode: "self-signed" }), HOST_ADDRESSES, MASKED_SECRETS));
    expect(p).toMatchObject({ tls: "true", "tls-sip-port": "5061", "wss-binding": ":7443" });
  });

  it("are absent when TLS is off", () => {
    const p = internalParams(
      renderBundle(modelWithTls({ mode: "off" }, withoutTlsListeners), HOST_ADDRESSES, MASKED_SECRETS),
    );
    for (const key of ["tls", "tls-sip-port", "wss-binding", "tls-cert-dir"]) expect(p).not.toHaveProperty(key);
  });
});

describe("TLS checks", () => {
  it("refuse a stack that admits 5061 or 7443 while TLS is off", () => {
    const problems = problemsAfter((raw) => (raw.tls = { mode: "off" }));
    expect(problems.map((p) => p.key).sort()).toEqual([
      "profiles.internal.tlsPort",
      "profiles.internal.wssPort",
      "trunks.plusnet.signaling[1]",
    ]);
  });

  it("refuse ACME without a host name, naming tls.mode", () => {
    const problems = problemsAfter((raw) => {
      delete raw.host.hostname;
      delete raw.dns;
      raw.tls = { mode: "acme", challenge: "http-01", email: "ops@example.org" };
    });
    expect(problems.map((p) => p.key)).toContain("tls.mode");
  });

  it("refuse a DNS zone (and so dns-01) without the zone's own token", () => {
    const problems = problemsAfter(() => {}, new Set(["trunkPasswords.oneandone", "signalwireToken"]));
    expect(problems.map((p) => p.key)).toEqual(["secrets.dnsToken"]);
    expect(problems[0].message).toContain("a project that holds only the zone");
    expect(problems[0].fix).toBe("pulumi config set --secret --path 'telephony:secrets.dnsToken' <token>");
  });

  it("still read the former name secrets.acmeDnsToken as the zone's token, dnsToken winning when both are set", () => {
    expect(dnsTokenOf({ trunkPasswords: {}, acmeDnsToken: "old" })).toBe("old");
    expect(dnsTokenOf({ trunkPasswords: {}, acmeDnsToken: "old", dnsToken: "new" })).toBe("new");
    expect(secretPathsOf({ trunkPasswords: {}, acmeDnsToken: "old" })).toEqual(new Set(["dnsToken"]));
  });

  it("refuse the obsolete tls.clientImage, naming the command that removes it", () => {
    const problems = problemsAfter((raw) => (raw.tls.clientImage = "neilpang/acme.sh:3.1.2"));
    expect(problems.map((p) => [p.key, p.fix])).toEqual([
      ["tls.clientImage", "pulumi config rm --path 'telephony:tls.clientImage'"],
    ]);
    expect(problems[0].message).toContain("Debian's lego");
  });

  it("refuse ACME without an account e-mail", () => {
    expect(problemsAfter((raw) => delete raw.tls.email).map((p) => p.key)).toEqual(["tls.email"]);
  });
});

describe("ACME on the host", () => {
  const secrets: HostSecrets = { ...MASKED_SECRETS, acmeDnsToken: "hetzner-S3cret-token" };
  const files = renderBundle(prodModel(), HOST_ADDRESSES, secrets);
  const at = (path: string) => files.find((f) => f.path === path)!;

  it("renews with Debian's lego (dns-01 through the exec hook) and restarts only the TLS profile when the certificate changed", () => {
    const script = at(ACME_PATHS.script).content;
    expect(script).toContain("--domains sip.xynap.de --dns exec");
    expect(script).toContain(`EXEC_PATH=${ACME_PATHS.dnsHook}`);
    expect(script).toContain("--server https://acme-v02.api.letsencrypt.org/directory");
    expect(script).not.toMatch(/docker run|acme\.sh/);
    expect(script).toMatch(/then lego_ renew --days 30 --no-random-sleep; else lego_ run; fi/);
    const restart = script.indexOf("sofia profile internal restart");
    expect(restart).toBeGreaterThan(script.indexOf('if cmp -s "$new"'));
    expect(script).not.toContain("external-ipv4 restart");
  });

  it("keeps lego's state per ACME server, so a changed tls.acmeServer issues anew instead of renewing", () => {
    const pebble = renderBundle(
      modelWithTls({
        mode: "acme",
        challenge: "dns-01",
        email: "ops@example.org",
        acmeServer: "https://127.0.0.1:14000/dir",
      }),
      HOST_ADDRESSES,
      secrets,
    );
    const script = pebble.find((f) => f.path === ACME_PATHS.script)!.content;
    expect(script).toContain(`--path ${ACME_PATHS.state}/127.0.0.1:14000 `);
    expect(at(ACME_PATHS.script).content).toContain(`--path ${ACME_PATHS.state}/acme-v02.api.letsencrypt.org `);
  });

  it("writes the dns-01 record through the Hetzner Cloud DNS API of the stack's zone, the token never on a command line", () => {
    const hook = at(ACME_PATHS.dnsHook);
    expect(hook.mode).toBe("0700");
    expect(hook.content).toContain("zone=xynap.de");
    expect(hook.content).toContain("/zones/$zone/rrsets/$name/TXT/actions/$verb");
    expect(hook.content).toContain("-H @<(printf 'Authorization: Bearer %s\\n' \"$HETZNER_TOKEN\")");
    expect(at(ACME_PATHS.script).content).toContain(`HETZNER_TOKEN=$(sed -n 's/^HETZNER_TOKEN=//p' ${ACME_PATHS.env})`);
  });

  it("installs the issuer chain as cafile.pem whenever it differs, before the unchanged-certificate exit", () => {
    const script = at(ACME_PATHS.script).content;
    const ca = script.indexOf('cp "$live/sip.xynap.de.issuer.crt" /srv/telephony/freeswitch/conf/tls/cafile.pem.new');
    expect(ca).toBeGreaterThan(0);
    expect(ca).toBeLessThan(script.indexOf('if cmp -s "$new"'));
  });

  it("runs the renewal daily from a systemd timer reloaded when its files change", () => {
    expect(at(ACME_PATHS.timer).content).toContain("OnCalendar=");
    expect(at(ACME_PATHS.service).content).toContain(`ExecStart=/bin/bash ${ACME_PATHS.script}`);
    expect(at(ACME_PATHS.timer).reload).toEqual({ kind: "acme" });
  });

  it("keeps the DNS token in one 0600 file and nowhere else", () => {
    const holding = files.filter((f) => f.content.includes("hetzner-S3cret-token"));
    expect(holding.map((f) => [f.path, f.mode, f.secret])).toEqual([[ACME_PATHS.env, "0600", true]]);
  });

  it("opens port 80 only with http-01, in the cloud firewall but not permanently in UFW", () => {
    expect(inboundRules(prodModel()).some((r) => r.ports?.start === 80)).toBe(false);
    const http = modelWithTls({ mode: "acme", challenge: "http-01", email: "ops@example.org" });
    expect(
      inboundRules(http)
        .filter((r) => r.ports?.start === 80)
        .map((r) => r.purpose),
    ).toEqual(["acme"]);
    expect(renderUfwScript(http)).not.toMatch(/port 80\b/);
    const httpFiles = renderBundle(http, HOST_ADDRESSES, MASKED_SECRETS);
    const script = httpFiles.find((f) => f.path === ACME_PATHS.script)!.content;
    expect(script).toContain("ufw allow proto tcp to any port 80");
    expect(script).toContain("--http --http.port :80");
    expect(httpFiles.some((f) => f.path === ACME_PATHS.dnsHook)).toBe(false);
  });

  it("installs lego where it is missing when the renewal job's files change, before the timer is enabled", () => {
    expect(reloadCommand({ kind: "acme" }, { ufwScript: "" })).toMatch(
      /^\(dpkg-query .* lego .*\|\| .*apt-get .*install -y -q lego .*\) && systemctl daemon-reload && systemctl enable --now telephony-acme\.timer$/,
    );
  });
});

describe("a self-signed certificate", () => {
  const cert = {
    certificatePem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    privateKeyPem: "-----BEGIN PRIVATE KEY-----\nKEY-S3cret\n-----END PRIVATE KEY-----\n",
  };
  const files = renderBundle(modelWithTls({ mode: "self-signed" }), HOST_ADDRESSES, {
    ...MASKED_SECRETS,
    selfSignedCertificate: cert,
  });

  it("is pushed as agent.pem and wss.pem (certificate then key) and cafile.pem (the certificate), 0600, loaded with reloadcert (the packaged FreeSWITCH)", () => {
    const pems = files.filter((f) => f.path.endsWith(".pem"));
    expect(pems.map((f) => f.path.split("/").pop())).toEqual(["agent.pem", "cafile.pem", "wss.pem"]);
    for (const f of pems) {
      expect(f.content).toBe(
        f.path.endsWith("cafile.pem") ? cert.certificatePem : cert.certificatePem + cert.privateKeyPem,
      );
      expect([f.mode, f.secret]).toEqual(["0600", true]);
      expect(f.reload).toEqual({
        kind: "tls",
        profiles: ["internal", "internal-ipv4"],
        drainSeconds: 300,
        load: "reloadcert",
      });
    }
  });

  it("keeps the private key out of every other file", () => {
    expect(files.filter((f) => f.content.includes("KEY-S3cret")).every((f) => f.secret)).toBe(true);
  });
});
