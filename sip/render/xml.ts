/** Small helpers over xmlbuilder2 so every renderer emits XML the same way. */
import { create } from "xmlbuilder2";
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces";

export type { XMLBuilder };
export type Params = readonly (readonly [string, string | number | boolean | undefined])[];

/**
 * Characters XML 1.0 cannot carry at all, not even as a character reference: C0 controls other
 * than tab, LF and CR, lone surrogates, U+FFFE and U+FFFF. A document holding one does not parse,
 * and FreeSWITCH then drops the whole document (every gateway of a profile, at the next rescan).
 */
const NOT_XML =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The `$${...}` a document may hold: the global variables the stack sets (vars.xml, secrets.xml),
 * those FreeSWITCH's core sets at start (switch_core.c), and any a renderer names through
 * globalVar(). Anything else comes from a value that was never meant to be expanded.
 */
const GLOBAL_VARIABLES = new Set([
  ...["domain", "domain_name", "stack", "esl_password", "xml_curl_credentials"],
  ...[
    "base_dir",
    "cache_dir",
    "certs_dir",
    "conf_dir",
    "core_uuid",
    "data_dir",
    "db_dir",
    "fonts_dir",
    "grammar_dir",
    "hostname",
    "htdocs_dir",
    "images_dir",
  ],
  ...[
    "local_ip_v4",
    "local_ip_v6",
    "local_mask_v4",
    "localstate_dir",
    "log_dir",
    "mod_dir",
    "recordings_dir",
    "run_dir",
    "script_dir",
    "sound_prefix",
    "sounds_dir",
    "storage_dir",
    "temp_dir",
  ],
]);

export class UnsafeXmlValueError extends Error {
  override name = "UnsafeXmlValueError";
}

const describeChar = (c: string) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;

/**
 * A value as it must reach xmlbuilder2 so that FreeSWITCH reads back exactly `value`:
 *  - `&` becomes `&amp;` first. xmlbuilder2 leaves an `&` that already starts an entity alone, so
 *    a password containing `&amp;` would otherwise be read back as `&`.
 *  - tab, LF and CR become character references: raw in an attribute, an XML parser turns them into
 *    spaces (and FreeSWITCH's preprocessor reads its files line by line).
 * `<`, `>` and `"` are left to xmlbuilder2. Characters XML cannot carry are refused, never dropped.
 */
export function encodeXmlValue(value: string, where: string): string {
  assertWritable(value, where);
  return value.replace(/&/g, "&amp;").replace(/[\t\n\r]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Refuses what no encoding can carry, and `$${...}` FreeSWITCH would expand (also inside comments). */
export function assertWritable(value: string, where: string): void {
  const bad = NOT_XML.exec(value);
  if (bad) throw new UnsafeXmlValueError(`${where}: ${describeChar(bad[0])} cannot be written in XML`);
  for (const m of value.matchAll(/\$\$\{([^}]*)\}?/g)) {
    // FreeSWITCH expands $${name} when it loads a file or an xml_curl answer, before parsing it.
    if (!GLOBAL_VARIABLES.has(m[1])) {
      throw new UnsafeXmlValueError(
        `${where}: "${m[0]}" would be expanded by FreeSWITCH when it loads the document (a renderer that means it names the variable with globalVar())`,
      );
    }
  }
}

type DomNode = {
  nodeType: number;
  nodeName: string;
  data?: string;
  childNodes: ArrayLike<DomNode>;
  attributes?: ArrayLike<{ name: string; value: string }>;
};

/**
 * Makes every attribute, text and comment of the built tree safe to serialise (see encodeXmlValue),
 * whatever renderer put it there: renderers hand over plain values and never escape themselves.
 */
function encodeTree(node: DomNode, path: string): void {
  for (const attr of Array.from(node.attributes ?? [])) {
    const where = `${path}/@${attr.name}`;
    if (node.nodeName === "X-PRE-PROCESS" && /[&<>"\t\n\r]/.test(attr.value)) {
      // The preprocessor reads these attributes as raw text, without decoding entities.
      throw new UnsafeXmlValueError(
        `${where}: ${JSON.stringify(attr.value)} holds a character FreeSWITCH's preprocessor cannot read back`,
      );
    }
    attr.value = encodeXmlValue(attr.value, where);
  }
  for (const child of Array.from(node.childNodes)) {
    if (child.nodeType === 3 /* text */) child.data = encodeXmlValue(child.data ?? "", `${path}/text()`);
    else if (child.nodeType === 8 /* comment */) {
      // A comment has no escapes: "--" would end it early (a comment is only a label, so split the
      // dashes), and FreeSWITCH's preprocessor drops any line holding a raw "<?" or "<include>".
      const text = (child.data ?? "").replace(/-(?=-)/g, "- ").replace(/-$/, "- ");
      assertWritable(text, `${path}/comment()`);
      if (/[<>\r\n]/.test(text))
        throw new UnsafeXmlValueError(`${path}/comment(): ${JSON.stringify(text)} cannot be a comment`);
      child.data = text;
    } else if (child.nodeType === 1 /* element */) encodeTree(child, `${path}/${child.nodeName}`);
  }
}

/** A document whose root is `root`, built by `build`, serialised with stable formatting. */
export function xmlDocument(root: string, attributes: Record<string, string>, build: (el: XMLBuilder) => void): string {
  const doc = create({ version: "1.0", encoding: "UTF-8" });
  build(doc.ele(root, attributes));
  encodeTree(doc.node as unknown as DomNode, "");
  return doc.end({ prettyPrint: true, indent: "  ", newline: "\n" }) + "\n";
}

/** Appends `<param name=.. value=../>` children in the given order, skipping undefined values. */
export function appendParams(parent: XMLBuilder, params: Params, element = "param"): XMLBuilder {
  for (const [name, value] of params) {
    if (value === undefined) continue;
    parent.ele(element, { name, value: String(value) });
  }
  return parent;
}

/** A file FreeSWITCH pulls in with X-PRE-PROCESS include: its root must be <include>. */
export function includeFile(comment: string, build: (el: XMLBuilder) => void): string {
  return xmlDocument("include", {}, (el) => {
    el.com(` ${comment} `);
    build(el);
  });
}

/** A configuration file under autoload_configs/, e.g. <configuration name="acl.conf">. */
export function configurationFile(name: string, description: string, build: (el: XMLBuilder) => void): string {
  return xmlDocument("configuration", { name, description }, build);
}

/** Reference to a global variable set in vars.xml or secrets.xml, expanded when FreeSWITCH loads its XML. */
export function globalVar(name: string): string {
  GLOBAL_VARIABLES.add(name);
  return `$\${${name}}`;
}
