/**
 * The config API's PUTs with values that would break or silently change FreeSWITCH's XML: each is
 * refused with 400 naming the key, the store untouched; a value XML can carry is served exactly.
 */
import { readFile } from "node:fs/promises";
import { XMLParser } from "fast-xml-parser";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { alice, einsUndEins, plusnet } from "../support/apiFixtures";
import { gatewaysRequest, sipAuthRequest, startHarness, type Harness } from "../support/loopbackApi";

/** `<param name=.. value=..>` of an answer, decoded once as FreeSWITCH's parser does. */
function params(xml: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (node: unknown, name: string): void => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n, name));
    if (!node || typeof node !== "object") return;
    const el = node as Record<string, unknown>;
    if ((name === "param" || name === "variable") && typeof el.name === "string") out[el.name] = String(el.value);
    for (const [k, v] of Object.entries(el)) walk(v, k);
  };
  walk(
    new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: "",
      processEntities: true,
      htmlEntities: true,
    }).parse(xml),
    "",
  );
  return out;
}

describe("hostile values through the config API", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  const put = (what: "trunks" | "extensions", body: unknown) =>
    h.request("PUT", `/api/v1/sip/${what}`, { token: h.secrets.adminToken, body });
  const store = () => readFile(h.settings.storePath, "utf8");

  it("refuses a control character in a trunk password with 400 naming the trunk's key; the store is untouched", async () => {
    expect((await put("trunks", [plusnet, einsUndEins])).status).toBe(200);
    const before = await store();
    const reply = await put("trunks", [plusnet, { ...einsUndEins, password: "trunk\u0001secret" }]);
    expect(reply.status).toBe(400);
    expect(reply.json().error).toMatch(/\[1\]\.password \(trunk "einsundeins"\): must not contain control characters/);
    expect(reply.body).not.toContain("trunk\\u0001secret");
    expect(await store()).toBe(before);
    expect(params((await h.xmlCurl(gatewaysRequest("internal"))).body).password).toBe(einsUndEins.password);
  });

  it("answers 400, not 500, to a lone surrogate in a password, and keeps the store", async () => {
    expect((await put("trunks", [plusnet, einsUndEins])).status).toBe(200);
    const before = await store();
    // JSON can carry "\ud800"; it is not text and has no UTF-8 form.
    const body = JSON.stringify([plusnet, { ...einsUndEins, password: "PLACEHOLDER" }]).replace(
      "PLACEHOLDER",
      "abc\\ud800def",
    );
    const reply = await h.request("PUT", "/api/v1/sip/trunks", { token: h.secrets.adminToken, body });
    expect(reply.status).toBe(400);
    expect(reply.json().error).toMatch(/password.*lone UTF-16 surrogate/);
    expect(await store()).toBe(before);

    const ext = await h.request("PUT", "/api/v1/sip/extensions", {
      token: h.secrets.adminToken,
      body: JSON.stringify([{ ...alice, password: "PLACEHOLDER" }]).replace("PLACEHOLDER", "abcdefgh\\udc00"),
    });
    expect(ext.status).toBe(400);

    // Past the schema, the renderer is the last guard: U+FFFE is text but cannot be written in XML.
    const noncharacter = await put("trunks", [plusnet, { ...einsUndEins, password: "abc\ufffedef" }]);
    expect(noncharacter.status).toBe(400);
    expect(noncharacter.json().error).toMatch(/cannot be served to FreeSWITCH.*U\+FFFE/);
    expect(await store()).toBe(before);
  });

  it("refuses a newline or ${...} in an extension's display name, and $${...} in its password", async () => {
    const newline = await put("extensions", [{ ...alice, displayName: "Alice\nSmith" }]);
    expect(newline.status).toBe(400);
    expect(newline.json().error).toMatch(
      /\[0\]\.displayName \(extension "1001"\): must not contain control characters/,
    );
    expect((await put("extensions", [{ ...alice, displayName: "${sip_from_user}" }])).json().error).toMatch(
      /displayName.*\$\{/,
    );
    expect((await put("extensions", [{ ...alice, password: "pw$${esl_password}x" }])).json().error).toMatch(
      /password.*\$\$\{/,
    );
  });

  it("serves entity-looking, quoting and dollar characters exactly as they were PUT", async () => {
    const password = `pa&amp;ss&lt;"'<>$x`;
    expect((await put("trunks", [plusnet, { ...einsUndEins, password }])).status).toBe(200);
    expect(params((await h.xmlCurl(gatewaysRequest("internal"))).body).password).toBe(password);
    expect((await put("extensions", [{ ...alice, password, displayName: "A & B <C>" }])).status).toBe(200);
    const user = params((await h.xmlCurl(sipAuthRequest(alice.id))).body);
    expect(user.password).toBe(password);
    expect(user.effective_caller_id_name).toBe("A & B <C>");
  });
});
