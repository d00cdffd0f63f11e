/**
 * What the write endpoints accept: the whole set of trunks (Sofia gateways) or extensions.
 * Names end up in ESL commands (`sofia profile <p> killgw <name>`), so they are restricted to
 * characters that cannot split or extend a command.
 */
import { z } from "zod";
import type { DirectoryUser, GatewaySpec } from "../sip/render/gateways";

const SOFIA_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const sofiaName = (what: string) =>
  z.string().regex(SOFIA_NAME, { message: `${what} must be 1-64 characters of A-Z, a-z, 0-9, '_', '.', '-', starting with a letter or digit` });
/** SIP URI parts and hosts: no whitespace, no XML-significant or ESL-significant characters needed. */
const sipToken = z.string().min(1).max(255).regex(/^[^\s<>"']+$/, { message: "must not contain whitespace, quotes or angle brackets" });
const seconds = z.number().int().min(1).max(86_400);

export const gatewaySpecSchema = z
  .strictObject({
    name: sofiaName("gateway name"),
    profile: sofiaName("profile"),
    proxy: sipToken,
    outboundProxy: sipToken.optional(),
    realm: sipToken.optional(),
    register: z.boolean(),
    username: sipToken.optional(),
    password: z.string().min(1).max(255).optional(),
    fromUser: sipToken.optional(),
    fromDomain: sipToken.optional(),
    callerIdInFrom: z.boolean().optional(),
    expireSeconds: seconds,
    retrySeconds: seconds,
    // Sofia rejects a ping interval below 5 s ("invalid ping!").
    pingSeconds: z.number().int().min(5).max(3600).optional(),
    context: sofiaName("context"),
  })
  .refine((g) => !g.register || (g.username !== undefined && g.password !== undefined), {
    message: "a registering gateway (register: true) needs username and password",
    path: ["password"],
  });

export const trunkSetSchema = z.array(gatewaySpecSchema).max(500);

/** The one permission the API checks today; extensions may carry others for future endpoints. */
export const CREDENTIALS_READ = "sip:credentials:read";

export const extensionSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$/, { message: "extension id must be 1-64 characters of A-Z, a-z, 0-9, '_', '.', '+', '-'" }),
  password: z.string().min(8, { message: "SIP password must be at least 8 characters" }).max(255),
  displayName: z.string().min(1).max(128),
  outboundCallerId: z.string().regex(/^\+[1-9]\d{6,14}$/, { message: "outboundCallerId must be E.164, e.g. +493455667290" }).optional(),
  context: sofiaName("context"),
  permissions: z.array(z.string().regex(/^[a-z]+(:[a-z]+)+$/, { message: "permission must look like sip:credentials:read" })).max(32),
  /** SHA-256 (hex) of this extension's API bearer token; the token itself never reaches the API. */
  apiTokenSha256: z.string().regex(/^[0-9a-f]{64}$/, { message: "apiTokenSha256 must be 64 lowercase hex digits" }).optional(),
});

export const extensionSetSchema = z.array(extensionSchema).max(10_000);

export type Extension = z.output<typeof extensionSchema>;

// The schema is the HTTP face of the shared renderer's types: keep them assignable both ways.
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const gatewayMatchesRenderer: Exact<z.output<typeof gatewaySpecSchema>, GatewaySpec> = true;
const extensionFeedsRenderer: Extension extends DirectoryUser ? true : never = true;
void gatewayMatchesRenderer;
void extensionFeedsRenderer;

/** Names that occur more than once, in first-seen order. */
export function duplicates(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const n of names) (seen.has(n) ? dup : seen).add(n);
  return [...dup];
}
