/**
 * The write endpoints' own rules, beside the shapes they accept (sip/apiContract.ts): the
 * permissions the API checks, and the check that a set names each trunk or extension once.
 */
/** The one permission the API checks today; extensions may carry others for future endpoints. */
export const CREDENTIALS_READ = "sip:credentials:read";

/** Names that occur more than once, in first-seen order. */
export function duplicates(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const n of names) (seen.has(n) ? dup : seen).add(n);
  return [...dup];
}
