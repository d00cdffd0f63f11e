/**
 * Values that would break FreeSWITCH's XML, at each layer: the stack's schema and the renderers.
 * (The config API's PUTs: test/api/hostileInput.test.ts.) A renderer must never emit a document
 * that does not parse, and what it emits must read back as exactly the value it was given.
 */
import { describe, expect, it } from "vitest";
import { MASKED_SECRETS, renderBundle } from "../../sip/bundle";
import { loadStack } from "../../sip/config";
import type { StackModel } from "../../sip/model";
import { renderPublicDialplan } from "../../sip/render/dialplan";
import {
  renderGatewaysDirectory,
  renderUserDirectory,
  sofiaCallerIdName,
  UnsafeXmlValueError,
} from "../../sip/directory";
import type { GatewaySpec } from "../../sip/apiContract";
import { XMLParser } from "fast-xml-parser";
import { parseXml } from "../support/xml";
import { problemsAfter, prodModel, prodRawConfig } from "../support/stackConfig";

const DOMAIN = "sip.example.net";
const gateway = (password: string): GatewaySpec => ({
  name: "oneandone",
  profile: "internal",
  proxy: "sip.1und1.de",
  realm: "sip.1und1.de",
  register: true,
  username: "4934556643378",
  password,
  expireSeconds: 600,
  retrySeconds: 30,
  context: "public",
});
const user = (password: string, displayName = "Reception") => ({
  id: "100",
  password,
  displayName,
  context: "default",
});

/**
 * Attribute values of every `<tag name=...>` as a conforming parser decodes them. (xmlbuilder2's own
 * parser decodes `&amp;#36;` twice, to "$"; fast-xml-parser, like FreeSWITCH's, decodes once.)
 */
function valuesByName(xml: string, tag: string): Record<string, string> {
  parseXml(xml); // well-formed first
  const doc = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "",
    processEntities: true,
    htmlEntities: true,
    isArray: (_name, _path, _leaf, isAttribute) => !isAttribute,
  }).parse(xml);
  const out: Record<string, string> = {};
  const walk = (node: unknown, name: string) => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n, name));
    if (!node || typeof node !== "object") return;
    const el = node as Record<string, unknown>;
    if (name === tag && typeof el.name === "string") out[el.name] = typeof el.value === "string" ? el.value : "";
    for (const [k, v] of Object.entries(el)) walk(v, k);
  };
  walk(doc, "");
  return out;
}

/** Values that must survive the trip through XML exactly. */
const FAITHFUL = [
  "pa&amp;ss", // an entity-looking literal: must come back as "&amp;", not "&"
  "a&lt;b&#36;c",
  "new\nline",
  "tab\there\r",
  `quotes " and ' and <tag> and ]]> and --`,
  "dollar $ and ${var} single",
  "unicode ünïcødé 🎧",
];

describe("renderers write any value FreeSWITCH can hold so that it reads back exactly", () => {
  for (const value of FAITHFUL) {
    it(`a gateway password ${JSON.stringify(value)}`, () => {
      const xml = renderGatewaysDirectory(DOMAIN, "internal", [gateway(value)]);
      expect(valuesByName(xml, "param").password).toBe(value);
    });

    it(`an extension password and display name ${JSON.stringify(value)}`, () => {
      const xml = renderUserDirectory(DOMAIN, user(value, value));
      expect(valuesByName(xml, "param").password).toBe(value);
      // The name travels percent-encoded past Sofia's sanitizer (sofiaCallerIdName); the XML must carry that exactly.
      expect(valuesByName(xml, "variable").effective_caller_id_name).toBe(sofiaCallerIdName(value));
    });
  }

  it("never leaves a raw newline or tab inside an attribute (an XML parser reads them as spaces)", () => {
    const xml = renderGatewaysDirectory(DOMAIN, "internal", [gateway("a\nb\tc")]);
    const attribute = /name="password" value="([^"]*)"/.exec(xml)![1];
    expect(attribute).toBe("a&#10;b&#9;c");
  });

  it("a number's use with markup, entities and newlines, in the public dialplan", () => {
    const use = 'Sales & <Support> &amp; "night"\nline';
    const model: StackModel = {
      ...prodModel(),
      numbers: [{ number: "+493455667290", use, trunk: "plusnet", destination: "100" }],
    };
    expect(Object.keys(valuesByName(renderPublicDialplan(model), "extension"))).toContain(`+493455667290 ${use}`);
  });

  it("comments stay comments whatever they label", () => {
    const model = prodModel();
    const renamed: StackModel = {
      ...model,
      trunks: model.trunks.map((t) => (t.name === "plusnet" ? { ...t, name: "plus--net-" } : t)),
    };
    for (const f of renderBundle(renamed, model.host.previewAddresses, MASKED_SECRETS).filter((x) =>
      x.path.endsWith(".xml"),
    )) {
      expect(() => parseXml(f.content), f.path).not.toThrow();
    }
  });
});

describe("renderers refuse what XML or FreeSWITCH cannot carry, rather than emit a broken document", () => {
  const refused: [string, string][] = [
    ["a control character", "pass\u0001word"],
    ["an escape character", "pass\u001bword"],
    ["a lone surrogate", "pass\ud800word"],
    ["U+FFFE", "pass\ufffeword"],
    ["a $${...} FreeSWITCH would expand on loading", "pass$${not_a_global}word"],
  ];
  for (const [what, value] of refused) {
    it(`${what} in a gateway password, a user's password or display name, a number's use`, () => {
      expect(() => renderGatewaysDirectory(DOMAIN, "internal", [gateway(value)])).toThrow(UnsafeXmlValueError);
      expect(() => renderUserDirectory(DOMAIN, user(value))).toThrow(UnsafeXmlValueError);
      expect(() => renderUserDirectory(DOMAIN, user("long-enough", value))).toThrow(UnsafeXmlValueError);
      const model: StackModel = {
        ...prodModel(),
        numbers: [{ number: "+493455667290", use: value, trunk: "plusnet", destination: "100" }],
      };
      expect(() => renderPublicDialplan(model)).toThrow(UnsafeXmlValueError);
    });
  }

  it("a value FreeSWITCH's preprocessor would read raw (it does not decode entities in X-PRE-PROCESS)", () => {
    const model: StackModel = { ...prodModel(), freeswitch: { ...prodModel().freeswitch, domain: 'sip"x' } };
    expect(() => renderBundle(model, model.host.previewAddresses, MASKED_SECRETS)).toThrow(
      /X-PRE-PROCESS.*preprocessor/,
    );
  });
});

describe("the stack's schema refuses such values, naming the key", () => {
  const cases: [string, (c: Record<string, any>) => void, string, RegExp][] = [
    ["a newline in numbers[].use", (c) => (c.numbers[1].use = "IVR\nmain"), "numbers[1].use", /control characters/],
    [
      "$${...} in numbers[].use (expanded when FreeSWITCH loads the dialplan)",
      (c) => (c.numbers[0].use = "main $${esl_password}"),
      "numbers[0].use",
      /\$\$\{/,
    ],
    ["${...} in numbers[].use", (c) => (c.numbers[0].use = "main ${caller_id_number}"), "numbers[0].use", /\$\{/],
    [
      "a control character in extensions.*.displayName",
      (c) => (c.extensions["100"].displayName = "Reception\u0007"),
      "extensions.100.displayName",
      /control characters/,
    ],
    [
      "a tab in extensions.*.displayName",
      (c) => (c.extensions["200"].displayName = "Sup\tport"),
      "extensions.200.displayName",
      /control characters/,
    ],
    [
      "${...} in extensions.*.displayName",
      (c) => (c.extensions["200"].displayName = "${x}"),
      "extensions.200.displayName",
      /\$\{/,
    ],
    [
      "an escape character in a trunk's user name (sent to the config API as a gateway parameter)",
      (c) => (c.trunks.oneandone.username = "4934\u001b55664337"),
      "trunks.oneandone.username",
      /control characters/,
    ],
    ["$${...} in a trunk's realm", (c) => (c.trunks.plusnet.realm = "$${domain}"), "trunks.plusnet.realm", /\$\$\{/],
  ];
  for (const [what, mutate, key, says] of cases) {
    it(what, () => {
      const problems = problemsAfter(mutate);
      expect(problems.map((p) => p.key)).toEqual([key]);
      expect(problems[0].message).toMatch(says);
    });
  }

  it("a control character or $${ in a trunk password secret, without echoing the password", () => {
    for (const password of ["hunter\n2-pass", "hunter$${esl_password}2", "hunter\ud8002"]) {
      const source = {
        stack: "prod",
        get: (k: string) => prodRawConfig()[k],
        getSecret: () => ({ trunkPasswords: { oneandone: password }, acmeDnsToken: "t" }),
      };
      let message = "";
      try {
        loadStack(source);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toContain("telephony:secrets.trunkPasswords.oneandone");
      expect(message).not.toContain("hunter");
    }
  });

  it("still accepts the characters a password or label may hold", () => {
    expect(problemsAfter((c) => (c.numbers[0].use = 'Sales & <Support> "night" $5 ünï'))).toEqual([]);
  });
});
