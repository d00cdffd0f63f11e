/**
 * Reads rendered XML the way FreeSWITCH would: a strict well-formedness check first
 * (fast-xml-parser's validator), then DOM queries (xmlbuilder2's DOM) for the assertions.
 */
import { XMLValidator } from "fast-xml-parser";
import { create } from "xmlbuilder2";

export interface XmlElement {
  getAttribute(name: string): string | null;
  getElementsByTagName(name: string): ArrayLike<XmlElement>;
  readonly parentNode: XmlElement | null;
  readonly nodeName: string;
}

/** Parses XML strictly; throws with the parser's message when it is not well formed. */
export function parseXml(xml: string): XmlElement {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`invalid XML: ${valid.err.msg} (line ${valid.err.line})`);
  return create(xml).node as unknown as XmlElement;
}

export function elements(root: XmlElement, tag: string): XmlElement[] {
  return Array.from(root.getElementsByTagName(tag));
}

/** The single element `tag` whose attribute `attr` is `value`. */
export function elementWith(root: XmlElement, tag: string, attr: string, value: string): XmlElement {
  const found = elements(root, tag).filter((e) => e.getAttribute(attr) === value);
  if (found.length !== 1) throw new Error(`expected one <${tag} ${attr}="${value}">, found ${found.length}`);
  return found[0];
}

/** `<param name="x" value="y"/>` descendants of an element, as a name → value map. */
export function paramMap(element: XmlElement, tag = "param"): Record<string, string> {
  return Object.fromEntries(
    elements(element, tag).map((p) => [p.getAttribute("name") ?? "", p.getAttribute("value") ?? ""]),
  );
}
