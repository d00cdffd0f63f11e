import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderGatewaysDirectory, renderNotFound, renderUserDirectory } from "../../sip/directory";
import { XML_CURL_USER } from "../../sip/apiContract";
import { DEFAULT_DIRECTORY_CACHE_SECONDS } from "../../sip/schema";
import { alice, bob, einsUndEins, plusnet } from "../support/apiFixtures";
import {
  basic,
  DOMAIN,
  gatewaysRequest,
  sipAuthRequest,
  startHarness,
  xmlCurlForm,
  type Harness,
} from "../support/loopbackApi";

const NOT_FOUND = renderNotFound();

describe("POST /api/v1/sip/xml-curl (mod_xml_curl's directory binding)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    expect(
      (await h.request("PUT", "/api/v1/sip/trunks", { token: h.secrets.adminToken, body: [plusnet, einsUndEins] }))
        .status,
    ).toBe(200);
    expect(
      (await h.request("PUT", "/api/v1/sip/extensions", { token: h.secrets.adminToken, body: [alice, bob] })).status,
    ).toBe(200);
  });
  afterAll(() => h.close());

  it("answers a profile's gateway request with that profile's gateways only", async () => {
    const external = await h.xmlCurl(gatewaysRequest("external-ipv4"));
    expect(external.status).toBe(200);
    expect(external.headers.get("content-type")).toMatch(/^text\/xml/);
    expect(external.body).toBe(renderGatewaysDirectory(DOMAIN, "external-ipv4", [plusnet]));
    expect(external.body).toContain('<gateway name="plusnet">');
    expect(external.body).not.toContain("einsundeins");

    const internal = await h.xmlCurl(gatewaysRequest("internal"));
    expect(internal.body).toBe(renderGatewaysDirectory(DOMAIN, "internal", [einsUndEins]));
    expect(internal.body).not.toContain("plusnet");
  });

  it('answers a gateway request for a profile whose <domain> is named, not "all"', async () => {
    const reply = await h.xmlCurl(
      xmlCurlForm({
        purpose: "gateways",
        profile: "internal",
        tag_name: "domain",
        key_name: "name",
        key_value: DOMAIN,
        domain: DOMAIN,
      }),
    );
    expect(reply.body).toBe(renderGatewaysDirectory(DOMAIN, "internal", [einsUndEins]));
  });

  it("answers a sip_auth lookup with that extension and its password", async () => {
    const reply = await h.xmlCurl(sipAuthRequest("1001"));
    expect(reply.status).toBe(200);
    // Cacheable for the stack's default directoryCacheSeconds (FreeSWITCH's user cache).
    expect(reply.body).toBe(renderUserDirectory(DOMAIN, alice, DEFAULT_DIRECTORY_CACHE_SECONDS * 1000));
    expect(reply.body).toContain('<param name="password" value="alice-sip-secret"/>');
  });

  it("answers a user_call lookup (bridge to user/1002) with that extension", async () => {
    const reply = await h.xmlCurl(
      xmlCurlForm({
        tag_name: "domain",
        key_name: "name",
        key_value: DOMAIN,
        key: "id",
        user: "1002",
        domain: DOMAIN,
        action: "user_call",
      }),
    );
    expect(reply.body).toBe(renderUserDirectory(DOMAIN, bob, DEFAULT_DIRECTORY_CACHE_SECONDS * 1000));
  });

  it.each([
    ["an unknown user", sipAuthRequest("9999")],
    ["a known user in another domain", sipAuthRequest("1001", "evil.example.org")],
    [
      "a lookup by a key other than id",
      xmlCurlForm({ key_value: DOMAIN, key: "number-alias", user: "1001", domain: DOMAIN }),
    ],
    ["a profile that does not exist", gatewaysRequest("external-ipv6")],
    [
      "the configuration section",
      xmlCurlForm({ section: "configuration", tag_name: "configuration", key_name: "name", key_value: "sofia.conf" }),
    ],
    ["the dialplan section", xmlCurlForm({ section: "dialplan", "Caller-Destination-Number": "1001" })],
    ["a directory request without user or purpose", xmlCurlForm({ purpose: "network-list" })],
  ])("answers %s with FreeSWITCH's not-found document", async (_what, form) => {
    const reply = await h.xmlCurl(form);
    expect(reply.status).toBe(200);
    expect(reply.body).toBe(NOT_FOUND);
  });

  it.each([
    ["no credentials", null],
    ["the wrong password", basic(XML_CURL_USER, "not-the-password")],
    ["the wrong user", "USE_PASSWORD"],
    ["a bearer token instead of basic auth", "USE_ADMIN_BEARER"],
    ["a malformed basic header", "Basic !!!not-base64"],
  ])("rejects a request with %s: 401 and no directory data", async (_what, auth) => {
    const header =
      auth === "USE_PASSWORD"
        ? basic("admin", h.secrets.xmlCurlPassword)
        : auth === "USE_ADMIN_BEARER"
          ? `Bearer ${h.secrets.adminToken}`
          : auth;
    const reply = await h.xmlCurl(sipAuthRequest("1001"), header);
    expect(reply.status).toBe(401);
    expect(reply.headers.get("www-authenticate")).toMatch(/^Basic /);
    expect(reply.body).toBe(NOT_FOUND);
    expect(reply.body).not.toContain("alice-sip-secret");
  });

  describe("malformed requests get a 4xx or the not-found document, and the server keeps serving", () => {
    const auth = () => basic(XML_CURL_USER, h.secrets.xmlCurlPassword);
    const post = (body: string, contentType?: string) =>
      // Bytes, not a string: fetch would otherwise add its own text/plain content type.
      fetch(`${h.api.url}/api/v1/sip/xml-curl`, {
        method: "POST",
        headers: { Authorization: auth(), ...(contentType ? { "Content-Type": contentType } : {}) },
        body: new TextEncoder().encode(body),
      });

    it("an empty form", async () => {
      const reply = await post("", "application/x-www-form-urlencoded");
      expect(reply.status).toBe(200);
      expect(await reply.text()).toBe(NOT_FOUND);
    });

    it("a form of garbage and broken percent-escapes", async () => {
      const reply = await post("%%%&&&==section=%E0%A4%A&\u0000=\u0001", "application/x-www-form-urlencoded");
      expect(reply.status).toBe(200);
      expect(await reply.text()).toBe(NOT_FOUND);
    });

    it.each([
      [
        "a JSON body",
        "application/json",
        JSON.stringify({ section: "directory", purpose: "gateways", profile: "internal" }),
      ],
      ["a text/plain body", "text/plain", "section=directory&purpose=gateways&profile=internal"],
      ["a body without content type", undefined, "section=directory&purpose=gateways&profile=internal"],
    ])("%s: 415, as mod_xml_curl only ever posts a form", async (_what, contentType, body) => {
      const reply = await post(body, contentType);
      expect(reply.status).toBe(415);
    });

    it("a form content type with a charset parameter is still a form", async () => {
      const reply = await post(
        "section=directory&purpose=gateways&profile=internal",
        "application/x-www-form-urlencoded; charset=utf-8",
      );
      expect(await reply.text()).toContain("gateways-internal");
    });

    it("a GET instead of a POST: 404, nothing served", async () => {
      const reply = await fetch(
        `${h.api.url}/api/v1/sip/xml-curl?section=directory&purpose=gateways&profile=internal`,
        { headers: { Authorization: auth() } },
      );
      expect(reply.status).toBe(404);
      expect(await reply.text()).not.toContain("gateways-internal");
    });

    it("a form that arrives in several chunks is read whole", async () => {
      const { request } = await import("node:http");
      const body = new URLSearchParams(gatewaysRequest("internal")).toString();
      const text = await new Promise<string>((resolve, reject) => {
        const req = request(
          `${h.api.url}/api/v1/sip/xml-curl`,
          {
            method: "POST",
            headers: {
              Authorization: auth(),
              "Content-Type": "application/x-www-form-urlencoded",
              "Transfer-Encoding": "chunked",
            },
          },
          (res) => {
            let data = "";
            res
              .setEncoding("utf8")
              .on("data", (d: string) => (data += d))
              .on("end", () => resolve(data));
          },
        );
        req.on("error", reject);
        // The profile name split across the chunks: only the whole body finds it.
        const cut = body.length - 3;
        req.write(body.slice(0, cut));
        setTimeout(() => req.end(body.slice(cut)), 50);
      });
      expect(text).toBe(renderGatewaysDirectory(DOMAIN, "internal", [einsUndEins]));
    });

    it("a body over the size limit", async () => {
      const reply = await post(
        "section=directory&x=" + "a".repeat(5 * 1024 * 1024),
        "application/x-www-form-urlencoded",
      );
      expect(reply.status).toBe(413);
    });

    it("after all of the above, a gateway request still gets the gateways", async () => {
      const reply = await h.xmlCurl(gatewaysRequest("external-ipv4"));
      expect(reply.body).toContain('<gateway name="plusnet">');
    });
  });
});
