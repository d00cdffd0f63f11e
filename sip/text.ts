/**
 * Rules for user-supplied text that ends up in FreeSWITCH's XML, shared by the stack's schema and
 * the config API's, so both refuse the same values with the same words. The renderers encode what
 * XML can carry (sip/render/xml.ts); these rules refuse what FreeSWITCH would not read back as
 * written:
 *  - control characters (C0, DEL, C1): invisible, and most cannot be written in XML at all;
 *  - lone UTF-16 surrogates: not text (a JSON body can carry "\ud800"), no UTF-8 form;
 *  - `$${...}`: FreeSWITCH expands it when it loads a file or an xml_curl answer, so the value
 *    would silently change (or pull in a secret such as the ESL password);
 *  - in free text (labels, display names) also `${...}`, which FreeSWITCH expands where a
 *    channel variable is read.
 */
import { z } from "zod";

const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `value` cannot be used, or undefined when it can. `freeText`: also refuse `${`. Never echoes the value. */
export function textProblem(value: string, freeText: boolean): string | undefined {
  if (LONE_SURROGATE.test(value)) return "is not valid Unicode text (a lone UTF-16 surrogate)";
  if (CONTROL.test(value)) return "must not contain control characters (newline, tab, escape, ...)";
  if (value.includes("$${")) return 'must not contain "$${": FreeSWITCH expands it when it loads the XML';
  if (freeText && value.includes("${")) return 'must not contain "${": FreeSWITCH expands it as a variable';
  return undefined;
}

/** A zod superRefine step applying textProblem (for string schemas with their own rules). */
export const refineText = (freeText: boolean) => (value: string, ctx: z.RefinementCtx) => {
  const why = textProblem(value, freeText);
  if (why) ctx.addIssue({ code: "custom", message: why });
};

/**
 * SIP URI parts and hosts (proxy, realm, user name, ...): no whitespace, quotes or angle brackets
 * either. Empty is allowed here: in the stack's config "" clears a preset's value.
 */
export const sipTextSchema = z
  .string()
  .max(255)
  .regex(/^[^\s<>"']*$/, { message: "must not contain whitespace, quotes or angle brackets" })
  .superRefine(refineText(false));

/** A SIP URI part that must be there (the config API's gateway fields). */
export const sipTokenSchema = sipTextSchema.min(1);

/** A label or name a person reads (a number's use, an extension's display name). */
export const freeTextSchema = z.string().min(1).superRefine(refineText(true));

/** A SIP password: any printable text, but nothing FreeSWITCH would change on loading it. */
export const passwordTextSchema = z.string().min(1).superRefine(refineText(false));
