import { describe, expect, it } from "vitest";
import { renderUserDirectory, sofiaCallerIdName } from "../../sip/directory";
import { elementWith, parseXml } from "../support/xml";

/**
 * What mod_sofia 1.10.12 does to an outgoing leg's caller-ID name before it writes the From
 * header, ported line by line: switch_sanitize_number (switch_utils.h), then check_decode
 * (mod_sofia.h), then `"%s" <sip:...>` (sofia_glue.c). The real thing is exercised in
 * test/freeswitch; this keeps the rule fast to check.
 */
function displayNameOnTheWire(name: string): string {
  let p = name;
  if (p.includes("/") || p.includes(":") || p.includes("@")) {
    const at = p.indexOf("@");
    if (at >= 0) p = p.slice(0, at);
    for (const warp of ["/", ":"]) {
      let q: number;
      while ((q = p.indexOf(warp)) >= 0) p = p.slice(q + 1);
    }
  }
  let bytes = Buffer.from(p, "latin1");
  if (p.includes("%")) {
    const out: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const hex = bytes.subarray(i + 1, i + 3).toString("latin1");
      if (bytes[i] === 0x25 && bytes.length - i > 2 && /^[0-9a-fA-F]/.test(hex)) {
        out.push(parseInt(hex.match(/^[0-9a-fA-F]{1,2}/)![0], 16));
        i += 2;
      } else out.push(bytes[i]);
    }
    bytes = Buffer.from(out);
  }
  let v = bytes.toString("latin1");
  if (v.includes('"')) {
    v = v.slice(v.indexOf('"') + 1);
    if (v.lastIndexOf('"') >= 0) v = v.slice(0, v.lastIndexOf('"'));
  }
  // The From header `"<v>" <sip:...>`, read back by a SIP parser: unescape the quoted-string.
  return Buffer.from(v.replace(/\\(.)/g, "$1"), "latin1").toString("utf8");
}

const NAMES = [
  "Reception / IVR",
  'Max "Mo" Müller',
  "Zoë: Büro @ Köln",
  "100% Support",
  "Back\\slash",
  "Plain Name",
  "$${domain} ${x}",
];

describe("caller-ID names reach the wire intact", () => {
  it("a name with / is cut by Sofia unless encoded (the bug: 'Reception / IVR' goes out as ' IVR')", () => {
    expect(displayNameOnTheWire("Reception / IVR")).toBe(" IVR");
  });

  it.each(NAMES)("%s survives switch_sanitize_number and check_decode", (name) => {
    expect(displayNameOnTheWire(sofiaCallerIdName(name))).toBe(name);
  });

  it("leaves plain ASCII names readable and encodes to printable ASCII only", () => {
    expect(sofiaCallerIdName("Plain Name")).toBe("Plain Name");
    for (const name of NAMES) expect(sofiaCallerIdName(name)).toMatch(/^[\x20-\x7e]*$/);
  });

  it("is what the directory hands FreeSWITCH as effective_caller_id_name", () => {
    const doc = parseXml(
      renderUserDirectory("sip.example.org", {
        id: "100",
        password: "pw-pw-pw-pw",
        displayName: "Reception / IVR",
        context: "default",
      }),
    );
    expect(elementWith(doc, "variable", "name", "effective_caller_id_name").getAttribute("value")).toBe(
      sofiaCallerIdName("Reception / IVR"),
    );
  });
});
