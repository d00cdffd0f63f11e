/**
 * A form-urlencoded body reduced to the few fields the caller names. mod_xml_curl posts ~20
 * fields (the event's headers) on every registration and profile scan, and the directory reads
 * at most seven of them; `new URLSearchParams(body)` decodes and stores all of them (~8 µs of the
 * xml_curl request's CPU on a 2-core machine). Here a form with plain keys (FreeSWITCH's always
 * are) is read where the asked-for names stand: a gateway lookup's pick and its three reads take
 * ~0.35 µs, against ~0.6 µs when every key is scanned, as a form with an encoded key still is.
 *
 * Each named field reads exactly what `new URLSearchParams(body).get(name)` would: the first
 * occurrence wins, a pair without "=" has the empty value, "+" is a space, percent-escapes are
 * decoded as UTF-8 with node's own `querystring.unescape` (which URLSearchParams uses, so a
 * malformed "%" or invalid UTF-8 decodes the same), and keys are decoded too ("sec%74ion" is
 * "section"). test/api/formFields.test.ts checks this against URLSearchParams, random bodies included.
 */
import { unescape as querystringUnescape } from "node:querystring";

export interface FormFields {
  /** The field's first value; null when the body does not have it (as URLSearchParams.get). */
  get(name: string): string | null;
}

const AMP = 0x26;
const EQUALS = 0x3d;

/** Is there a "%" or "+" in a key (before its pair's "=", or in a pair without one)? */
function hasEncodedKey(body: string): boolean {
  let percent = body.indexOf("%");
  let plus = body.indexOf("+");
  while (percent >= 0 || plus >= 0) {
    const at = percent < 0 ? plus : plus < 0 ? percent : Math.min(percent, plus);
    const pairStart = body.lastIndexOf("&", at) + 1;
    const equals = body.indexOf("=", pairStart);
    if (equals < 0 || equals > at) return true;
    // In a value: go on from the next pair.
    const next = body.indexOf("&", at);
    if (next < 0) return false;
    if (percent >= 0 && percent < next) percent = body.indexOf("%", next);
    if (plus >= 0 && plus < next) plus = body.indexOf("+", next);
  }
  return false;
}

/** A body whose keys are all plain: a name's first pair is the first place it stands as a whole key. */
class PlainKeyFields implements FormFields {
  constructor(
    private readonly body: string,
    private readonly names: ReadonlySet<string>,
  ) {}

  get(name: string): string | null {
    if (!this.names.has(name)) return null;
    const body = this.body;
    for (let at = body.indexOf(name); at >= 0; at = body.indexOf(name, at + 1)) {
      if (at > 0 && body.charCodeAt(at - 1) !== AMP) continue;
      const after = at + name.length;
      if (after === body.length || body.charCodeAt(after) === AMP) return "";
      if (body.charCodeAt(after) !== EQUALS) continue;
      const end = body.indexOf("&", after + 1);
      return decode(body.slice(after + 1, end < 0 ? body.length : end));
    }
    return null;
  }
}

class PickedFields implements FormFields {
  constructor(private readonly values: Map<string, string>) {}
  get(name: string): string | null {
    return this.values.get(name) ?? null;
  }
}

const isHex = (code: number) => (code >= 48 && code <= 57) || ((code | 0x20) >= 97 && (code | 0x20) <= 102);

/** Has `s` a "%" followed by two hex digits? Only then does URLSearchParams unescape at all. */
function hasEscape(s: string): boolean {
  for (let i = s.indexOf("%"); i >= 0 && i + 2 < s.length; i = s.indexOf("%", i + 1)) {
    if (isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) return true;
  }
  return false;
}

/** Decodes one key or value as URLSearchParams does: a no-op (no copy) for the common plain token. */
function decode(raw: string): string {
  const plus = raw.indexOf("+") >= 0;
  if (!plus && raw.indexOf("%") < 0) return raw;
  const spaced = plus ? raw.replace(/\+/g, " ") : raw;
  // Without a real escape, "%" is literal: unescape's fallback would also mangle non-Latin-1 text.
  return hasEscape(spaced) ? querystringUnescape(spaced) : spaced;
}

/**
 * Picks the named fields out of form bodies (see the file comment for the exact semantics).
 * Built once per set of names: a key is compared in place with the names of its length, so the
 * fields nobody reads are neither copied nor decoded.
 */
export class FormFieldPicker {
  private readonly names: ReadonlySet<string>;
  /** byLength[n]: the names n characters long. */
  private readonly byLength: (string[] | undefined)[] = [];

  /** `names` must be plain: no "%" or "+" (they are compared with keys that have neither). */
  constructor(names: Iterable<string>) {
    this.names = new Set(names);
    for (const name of this.names) {
      if (/[%+&=]/.test(name)) throw new Error(`form field name ${JSON.stringify(name)} is not plain`);
      (this.byLength[name.length] ??= []).push(name);
    }
  }

  /**
   * The named fields of `form`. Takes the bytes: decoding them as UTF-8 here gives a well-formed
   * string, as URLSearchParams makes of any input (it replaces lone surrogates first).
   */
  pick(form: Buffer): FormFields {
    const body = form.toString("utf8");
    // mod_xml_curl's keys are plain header names: then each name is found where it stands, without
    // walking the ~20 pairs (half the cost of a pick). A key with "%" or "+" could decode to a name
    // anywhere: then every key is read.
    return hasEncodedKey(body) ? this.scan(body) : new PlainKeyFields(body, this.names);
  }

  /** Reads every key, decoding the encoded ones, and keeps the named fields' first values. */
  private scan(body: string): FormFields {
    const values = new Map<string, string>();
    const end = body.length;
    // The next "%" and "+" at or after the current key (-1: none left), to tell encoded keys
    // without scanning every key.
    let percent = body.indexOf("%");
    let plus = body.indexOf("+");
    for (let start = 0; start < end && values.size < this.names.size;) {
      let amp = body.indexOf("&", start);
      if (amp < 0) amp = end;
      if (amp > start) {
        let eq = body.indexOf("=", start);
        if (eq < 0 || eq > amp) eq = amp;
        if (percent >= 0 && percent < start) percent = body.indexOf("%", start);
        if (plus >= 0 && plus < start) plus = body.indexOf("+", start);
        let key: string | undefined;
        if ((percent >= 0 && percent < eq) || (plus >= 0 && plus < eq)) {
          const decoded = decode(body.slice(start, eq));
          if (this.names.has(decoded)) key = decoded;
        } else {
          const candidates = this.byLength[eq - start];
          if (candidates) for (const name of candidates) if (body.startsWith(name, start)) key = name;
        }
        if (key !== undefined && !values.has(key)) values.set(key, eq < amp ? decode(body.slice(eq + 1, amp)) : "");
      }
      start = amp + 1;
    }
    return new PickedFields(values);
  }
}
