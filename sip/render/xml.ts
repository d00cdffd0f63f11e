/** Small helpers over xmlbuilder2 so every renderer emits XML the same way. */
import { create } from "xmlbuilder2";
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces";

export type { XMLBuilder };
export type Params = readonly (readonly [string, string | number | boolean | undefined])[];

/** A document whose root is `root`, built by `build`, serialised with stable formatting. */
export function xmlDocument(root: string, attributes: Record<string, string>, build: (el: XMLBuilder) => void): string {
  const doc = create({ version: "1.0", encoding: "UTF-8" });
  build(doc.ele(root, attributes));
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
export const globalVar = (name: string) => `$\${${name}}`;
