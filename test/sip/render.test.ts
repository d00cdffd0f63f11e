import { describe, expect, it } from "vitest";
import { HOST_PATHS } from "../../sip/hostLayout";
import { MASKED_SECRETS, renderBundle, type HostSecrets } from "../../sip/bundle";
import { inboundRules } from "../../sip/firewall";
import { gatewaySpecFromTrunk, renderGatewaysDirectory } from "../../sip/directory";
import { renderCloudInit } from "../../sip/bootstrap";
import { elements, elementWith, paramMap, parseXml } from "../support/xml";
import { prodModel } from "../support/stackConfig";

// The primary addresses of the host this project replaces (the stack renders with them when it has no deployed ones).
const HOST_ADDRESSES = { ipv4: "46.4.96.105", ipv6: "2a01:4f8:140:829d::2" };
const model = prodModel();
const files = renderBundle(model, HOST_ADDRESSES, MASKED_SECRETS);
const fileAt = (path: string) => {
  const f = files.find((x) => x.path === path);
  if (!f) throw new Error(`not rendered: ${path}`);
  return f.content;
};
const conf = (rel: string) => fileAt(`${HOST_PATHS.freeswitchConf}/${rel}`);

describe("the rendered production bundle", () => {
  it("is well-formed XML in every .xml file", () => {
    const xml = files.filter((f) => f.path.endsWith(".xml"));
    expect(xml.length).toBeGreaterThan(10);
    for (const f of xml) expect(() => parseXml(f.content), f.path).not.toThrow();
  });

  it("is byte-identical when rendered twice", () => {
    expect(renderBundle(prodModel(), HOST_ADDRESSES, MASKED_SECRETS)).toEqual(files);
  });

  it("binds external-ipv4 to the server's IPv4 for signalling and media", () => {
    const p = paramMap(parseXml(conf("sip_profiles/external-ipv4.xml")));
    expect(p).toMatchObject({
      "sip-ip": HOST_ADDRESSES.ipv4,
      "sip-port": "5060",
      "ext-sip-ip": HOST_ADDRESSES.ipv4,
      "ext-rtp-ip": HOST_ADDRESSES.ipv4,
    });
  });

  it("binds the dual profile internal to the server's IPv6 (not ::), with IPv6 ext-sip-ip and ext-rtp-ip, TLS 5061 and WSS 7443", () => {
    const p = paramMap(parseXml(conf("sip_profiles/internal.xml")));
    expect(p).toMatchObject({
      "sip-ip": HOST_ADDRESSES.ipv6,
      "sip-port": "5060",
      "ext-sip-ip": HOST_ADDRESSES.ipv6,
      "ext-rtp-ip": HOST_ADDRESSES.ipv6,
      "tls-sip-port": "5061",
      "wss-binding": ":7443",
    });
  });

  it("gives internal an IPv4 twin on the server's IPv4: SIP on ipv4SipPort, TLS and WSS on the same ports, IPv4 media", () => {
    const p = paramMap(parseXml(conf("sip_profiles/internal-ipv4.xml")));
    expect(p).toMatchObject({
      "sip-ip": HOST_ADDRESSES.ipv4,
      "sip-port": "5080",
      "ext-sip-ip": HOST_ADDRESSES.ipv4,
      "rtp-ip": HOST_ADDRESSES.ipv4,
      "ext-rtp-ip": HOST_ADDRESSES.ipv4,
      "auth-calls": "true",
      "tls-sip-port": "5061",
      "wss-binding": ":7443",
    });
  });

  it("sets no deprecated Sofia parameter; media timeouts are the media_timeout globals", () => {
    for (const name of ["external-ipv4", "internal", "internal-ipv4"]) {
      const p = paramMap(parseXml(conf(`sip_profiles/${name}.xml`)));
      expect(Object.keys(p)).not.toContain("rtp-timeout-sec");
      expect(Object.keys(p)).not.toContain("rtp-hold-timeout-sec");
    }
    expect(conf("vars.xml")).toContain('data="media_timeout=300000"');
    expect(conf("vars.xml")).toContain('data="media_hold_timeout=1800000"');
  });

  it("gives mod_opus its opus.conf", () => {
    expect(conf("autoload_configs/modules.conf.xml")).toContain('module="mod_opus"');
    expect(conf("autoload_configs/opus.conf.xml")).toContain('<configuration name="opus.conf"');
  });

  it("makes every profile parse the directory for its gateways and apply the default-deny ACL", () => {
    for (const name of ["external-ipv4", "internal", "internal-ipv4"]) {
      const doc = parseXml(conf(`sip_profiles/${name}.xml`));
      const domain = elements(doc, "domain")[0];
      expect(domain.getAttribute("parse")).toBe("true");
      expect(paramMap(doc)["apply-inbound-acl"]).toBe("sip-gateways");
      expect(elements(doc, "gateway")).toHaveLength(0);
    }
  });

  it("refuses every REGISTER on the trunk-only profile and logs auth failures where callers authenticate", () => {
    const trunkOnly = paramMap(parseXml(conf("sip_profiles/external-ipv4.xml")));
    expect(trunkOnly["disable-register"]).toBe("true");
    // Never apply-register-acl: a REGISTER from inside that ACL would be registered without auth.
    expect(trunkOnly["apply-register-acl"]).toBeUndefined();
    expect(trunkOnly["log-auth-failures"]).toBeUndefined();
    for (const name of ["internal", "internal-ipv4"]) {
      const p = paramMap(parseXml(conf(`sip_profiles/${name}.xml`)));
      expect(p).toMatchObject({ "auth-calls": "true", "log-auth-failures": "true" });
      expect(p["disable-register"]).toBeUndefined();
    }
  });

  it("gives fail2ban every trunk range as ignoreip and no rule on refused calls", () => {
    const jail = fileAt("/etc/fail2ban/jail.d/freeswitch-telephony.conf");
    // Every listener, the IPv4 twin's SIP port included.
    expect(/^port {5}= (.*)$/m.exec(jail)![1]).toBe("5060,5061,5080,7443");
    const ignored = /^ignoreip = (.*)$/m.exec(jail)![1].split(" ");
    for (const trunk of model.trunks) for (const range of trunk.sourceRanges) expect(ignored).toContain(range);
    const filter = fileAt("/etc/fail2ban/filter.d/freeswitch-telephony.conf");
    expect(filter).not.toContain("rejected call");
    expect(filter).toContain("SIP auth failure");
  });

  it("renders ACL sip-gateways with default deny admitting exactly the prod trunks' source ranges", () => {
    const list = elementWith(parseXml(conf("autoload_configs/acl.conf.xml")), "list", "name", "sip-gateways");
    expect(list.getAttribute("default")).toBe("deny");
    const nodes = elements(list, "node");
    expect(nodes.every((n) => n.getAttribute("type") === "allow")).toBe(true);
    expect(nodes.map((n) => n.getAttribute("cidr")).sort()).toEqual(
      [
        "92.197.176.0/24",
        "92.197.177.0/24",
        "92.197.182.0/24",
        "2001:8d8:104:100:212:227:124:128/125",
        "212.227.124.0/24",
      ].sort(),
    );
  });

  it("sets FreeSWITCH's RTP range to the one the UFW script opens", () => {
    const p = paramMap(parseXml(conf("autoload_configs/switch.conf.xml")));
    expect([p["rtp-start-port"], p["rtp-end-port"]]).toEqual(["16384", "16484"]);
    expect(fileAt(HOST_PATHS.ufwScript)).toContain("ufw allow proto udp to any port 16384:16484");
  });

  it("opens SIP in UFW only from the trunks' ranges, never to everyone, and never ESL or the API", () => {
    const ufw = fileAt(HOST_PATHS.ufwScript);
    const sipLines = ufw.split("\n").filter((l) => / port 506[01] /.test(l));
    expect(sipLines).toHaveLength(3 + 3 + 2);
    expect(sipLines.every((l) => l.includes(" from "))).toBe(true);
    expect(ufw).toContain("ufw allow proto udp from 2001:8d8:104:100:212:227:124:128/125 to any port 5060");
    expect(ufw).toContain("ufw allow proto tcp from 92.197.182.0/24 to any port 5061");
    expect(ufw).not.toMatch(/port (8001|8021)\b/);
    expect(ufw).toContain("ufw default deny incoming");
  });

  it("admits the config API's /metrics listener (9282/tcp) from the admin SSH ranges only, in the cloud rules and in UFW", () => {
    const metrics = inboundRules(model).filter((r) => r.purpose === "metrics");
    expect(metrics).toEqual([
      {
        description: "Prometheus /metrics from admin ranges",
        protocol: "tcp",
        ports: { start: 9282, end: 9282 },
        sourceRanges: model.host.adminSshRanges,
        purpose: "metrics",
      },
    ]);
    const lines = fileAt(HOST_PATHS.ufwScript)
      .split("\n")
      .filter((l) => / port 9282 /.test(l));
    expect(lines).toEqual(
      model.host.adminSshRanges.map(
        (cidr) => `ufw allow proto tcp from ${cidr} to any port 9282 comment 'Prometheus /metrics from admin ranges'`,
      ),
    );
  });

  it("has the API serve /metrics on every address at 9282, and the rest on loopback", () => {
    const settings = JSON.parse(fileAt(HOST_PATHS.apiConfig));
    expect(settings.listen).toEqual({ host: "127.0.0.1", port: 8001 });
    expect(settings.metricsListen).toEqual({ host: "::", port: 9282 });
  });

  it("points xml_curl's directory binding at the config API on loopback, with credentials from secrets.xml", () => {
    const doc = parseXml(conf("autoload_configs/xml_curl.conf.xml"));
    const binding = elementWith(doc, "binding", "name", "directory");
    const p = paramMap(binding);
    expect(p["gateway-url"]).toBe("http://127.0.0.1:8001/api/v1/sip/xml-curl");
    expect(p["gateway-credentials"]).toBe("$${xml_curl_credentials}");
  });

  it("keeps the event socket on loopback with the password from secrets.xml", () => {
    const p = paramMap(parseXml(conf("autoload_configs/event_socket.conf.xml")));
    expect(p).toMatchObject({ "listen-ip": "127.0.0.1", "listen-port": "8021", password: "$${esl_password}" });
  });

  it("ships an empty static directory and no stock defaults to fall back to", () => {
    const doc = parseXml(conf("freeswitch.xml"));
    const directory = elementWith(doc, "section", "name", "directory");
    expect(elements(directory, "user")).toHaveLength(0);
    expect(elements(directory, "X-PRE-PROCESS")).toHaveLength(0);
    const all = files.map((f) => f.content).join("\n");
    expect(all).not.toContain("default_password");
    expect(all).not.toMatch(/\b1234\b/);
    expect(files.some((f) => f.path.includes("/directory/"))).toBe(false);
  });

  it("loads mod_xml_curl before mod_sofia so gateways can be fetched when profiles start", () => {
    const modules = elements(parseXml(conf("autoload_configs/modules.conf.xml")), "load").map((l) =>
      l.getAttribute("module"),
    );
    expect(modules.indexOf("mod_xml_curl")).toBeGreaterThanOrEqual(0);
    expect(modules.indexOf("mod_xml_curl")).toBeLessThan(modules.indexOf("mod_sofia"));
  });

  it("routes each configured number to its extension and refuses every other destination", () => {
    const doc = parseXml(conf("dialplan/public.xml"));
    const conditions = elements(doc, "condition");
    const expressions = conditions.map((c) => c.getAttribute("expression") ?? "");
    for (const number of ["493455667290", "4934556643378", "493455630488"]) {
      const re = expressions
        .map((e) => new RegExp(e))
        .find((r) => r !== undefined && r.source !== "^.*$" && r.test(number));
      expect(re, number).toBeDefined();
      expect(re!.test(`+${number}`)).toBe(true);
    }
    const last = conditions[conditions.length - 1];
    expect(last.getAttribute("expression")).toBe("^.*$");
    expect(elements(last, "action").map((a) => a.getAttribute("application"))).toContain("respond");
    const bridges = elements(doc, "action")
      .filter((a) => a.getAttribute("application") === "bridge")
      .map((a) => a.getAttribute("data"));
    expect(bridges).toEqual(["user/100@$${domain}", "user/100@$${domain}", "user/200@$${domain}"]);
  });
});

describe("the gateways the config API serves from the production trunks", () => {
  const specs = model.trunks.map((t) => gatewaySpecFromTrunk(t, t.register ? "pw-from-secret" : undefined));
  const gatewayParams = (profile: string, name: string) =>
    paramMap(elementWith(parseXml(renderGatewaysDirectory("sip.xynap.de", profile, specs)), "gateway", "name", name));

  it("gives 1&1 the realm sip.1und1.de, a bracketed IPv6 outbound proxy and REGISTER", () => {
    expect(gatewayParams("internal", "oneandone")).toMatchObject({
      realm: "sip.1und1.de",
      proxy: "sip.1und1.de",
      "outbound-proxy": "[2001:8d8:104:100:212:227:124:129]",
      register: "true",
    });
  });

  it("gives Plusnet register=false, caller-id-in-from=false and its fixed outbound proxy", () => {
    expect(gatewayParams("external-ipv4", "plusnet")).toMatchObject({
      register: "false",
      "caller-id-in-from": "false",
      "outbound-proxy": "92.197.176.16",
      proxy: "sip.plusnet.de",
    });
  });

  it("registers through the outbound proxy (register-proxy), not by DNS for the proxy host", () => {
    expect(gatewayParams("internal", "oneandone")["register-proxy"]).toBe("[2001:8d8:104:100:212:227:124:129]");
  });

  it("accepts the registrar's challenge by the trunks' source ranges (gw-auth-acl), not by DNS for the proxy host", () => {
    expect(gatewayParams("internal", "oneandone")["gw-auth-acl"]).toBe("sip-gateways");
    expect(gatewayParams("external-ipv4", "plusnet")["gw-auth-acl"]).toBeUndefined();
  });

  it("pings the IP-authenticated trunk with OPTIONS through its fixed proxy, so it has a state UP/DOWN", () => {
    expect(gatewayParams("external-ipv4", "plusnet")).toMatchObject({
      ping: "30",
      "ping-max": "3",
      "ping-min": "1",
      "register-proxy": "92.197.176.16",
    });
    expect(gatewayParams("internal", "oneandone").ping).toBeUndefined();
  });

  it("puts each gateway in its own profile's answer only, under a user directly below the domain", () => {
    const doc = parseXml(renderGatewaysDirectory("sip.xynap.de", "internal", specs));
    expect(elements(doc, "gateway").map((g) => g.getAttribute("name"))).toEqual(["oneandone"]);
    const user = elements(doc, "gateways")[0].parentNode!;
    expect(user.nodeName).toBe("user");
    expect(user.parentNode!.nodeName).toBe("domain");
  });
});

describe("secrets in the bundle", () => {
  const secrets: HostSecrets = {
    eslPassword: "esl-S3cret-value",
    xmlCurlPassword: "curl-S3cret-value",
    fernetKey: "fernet-S3cret-value",
    adminToken: "admin-S3cret-value",
  };
  const real = renderBundle(model, HOST_ADDRESSES, secrets);

  it("appear only in files marked secret, which are written 0600", () => {
    for (const f of real) {
      const holds = Object.values(secrets).some((s) => f.content.includes(s));
      if (holds)
        expect({ path: f.path, secret: f.secret, mode: f.mode }).toEqual({ path: f.path, secret: true, mode: "0600" });
    }
    expect(real.filter((f) => f.secret).length).toBeGreaterThan(0);
  });

  it("leave every non-secret file identical whatever their values", () => {
    const masked = renderBundle(model, HOST_ADDRESSES, MASKED_SECRETS);
    expect(real.filter((f) => !f.secret)).toEqual(masked.filter((f) => !f.secret));
  });
});

describe("the cloud-init bootstrap", () => {
  it("installs Docker, UFW and fail2ban and depends on nothing in the stack config", () => {
    const userData = renderCloudInit();
    expect(userData.startsWith("#cloud-config\n")).toBe(true);
    for (const pkg of ["docker.io", "ufw", "fail2ban"]) expect(userData).toContain(`  - ${pkg}\n`);
    for (const rule of inboundRules(model))
      for (const cidr of rule.sourceRanges) if (!cidr.includes("/0")) expect(userData).not.toContain(cidr);
  });
});
