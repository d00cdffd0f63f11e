/**
 * What the stack hands the config API, written once as zod schemas that both sides import: the
 * stack renders and PUTs these shapes (bundle.ts, deploy.ts, render/gateways.ts), the API
 * validates what it reads with them (its settings file, the PUT bodies, its store). The types are
 * inferred from the schemas, so the two sides cannot drift apart.
 *
 * Names end up in ESL commands (`sofia profile <p> killgw <name>`), so they are restricted to
 * characters that cannot split or extend a command.
 */
import { z } from "zod";
import { MAX_DIRECTORY_CACHE_SECONDS } from "./schema";
import { freeTextSchema, passwordTextSchema, sipTokenSchema } from "./text";

const SOFIA_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const sofiaName = (what: string) =>
  z.string().regex(SOFIA_NAME, {
    message: `${what} must be 1-64 characters of A-Z, a-z, 0-9, '_', '.', '-', starting with a letter or digit`,
  });
/** SIP URI parts and hosts: no whitespace, no XML-significant or ESL-significant characters needed. */
const sipToken = sipTokenSchema;
const seconds = z.number().int().min(1).max(86_400);

/** What Sofia needs to run one gateway; the API stores these (password encrypted at rest). */
export const gatewaySpecSchema = z
  .strictObject({
    name: sofiaName("gateway name"),
    profile: sofiaName("profile"),
    proxy: sipToken,
    outboundProxy: sipToken.optional(),
    realm: sipToken.optional(),
    register: z.boolean(),
    username: sipToken.optional(),
    password: passwordTextSchema.max(255).optional(),
    fromUser: sipToken.optional(),
    fromDomain: sipToken.optional(),
    callerIdInFrom: z.boolean().optional(),
    expireSeconds: seconds,
    retrySeconds: seconds,
    // IP-authenticated trunks: seconds between OPTIONS pings, so the gateway has a state UP/DOWN.
    // Sofia rejects a ping interval below 5 s ("invalid ping!").
    pingSeconds: z.number().int().min(5).max(3600).optional(),
    context: sofiaName("context"),
  })
  .refine((g) => !g.register || (g.username !== undefined && g.password !== undefined), {
    message: "a registering gateway (register: true) needs username and password",
    path: ["password"],
  });
export type GatewaySpec = z.output<typeof gatewaySpecSchema>;

/** The body of PUT /api/v1/sip/trunks: the whole set of trunks (Sofia gateways). */
export const trunkSetSchema = z.array(gatewaySpecSchema).max(500);

/** One extension as PUT /api/v1/sip/extensions takes it and the API stores it. */
export const extensionSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$/, {
    message: "extension id must be 1-64 characters of A-Z, a-z, 0-9, '_', '.', '+', '-'",
  }),
  password: passwordTextSchema.min(8, { message: "SIP password must be at least 8 characters" }).max(255),
  displayName: freeTextSchema.max(128),
  outboundCallerId: z
    .string()
    .regex(/^\+[1-9]\d{6,14}$/, { message: "outboundCallerId must be E.164, e.g. +493455667290" })
    .optional(),
  context: sofiaName("context"),
  permissions: z
    .array(z.string().regex(/^[a-z]+(:[a-z]+)+$/, { message: "permission must look like sip:credentials:read" }))
    .max(32),
  /** SHA-256 (hex) of this extension's API bearer token; the token itself never reaches the API. */
  apiTokenSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, { message: "apiTokenSha256 must be 64 lowercase hex digits" })
    .optional(),
});
export type ExtensionRecord = z.output<typeof extensionSchema>;
/** What a user lookup's answer (render/gateways.ts renderUserDirectory) is rendered from. */
export type DirectoryUser = Pick<ExtensionRecord, "id" | "password" | "displayName" | "outboundCallerId" | "context">;

/** The body of PUT /api/v1/sip/extensions: the whole set of extensions. */
export const extensionSetSchema = z.array(extensionSchema).max(10_000);

/** The user FreeSWITCH's mod_xml_curl authenticates as, and the path it posts its requests to. */
export const XML_CURL_USER = "freeswitch";
export const XML_CURL_PATH = "/api/v1/sip/xml-curl";

const port = z.number().int().min(1).max(65535);

/** The API's non-secret settings file (bundle.ts apiSettings() renders it); secrets are separate files beside it. */
export const apiSettingsSchema = z.strictObject({
  listen: z.strictObject({ host: z.string().min(1), port }),
  /** The second listener, GET /metrics only, on every address (the firewall admits host.adminSshRanges). */
  metricsListen: z.strictObject({ host: z.string().min(1), port: z.number().int().min(0).max(65535) }),
  domain: z.string().min(1),
  /** `cacheable` on every user answer, in seconds (freeswitch.directoryCacheSeconds); 0: none. */
  directoryCacheSeconds: z.number().int().min(0).max(MAX_DIRECTORY_CACHE_SECONDS),
  profiles: z.array(z.string().regex(/^[A-Za-z0-9_.-]+$/)).min(1),
  esl: z.strictObject({ host: z.string().min(1), port }),
  xmlCurlUser: z.string().min(1),
  xmlCurlPath: z.string().startsWith("/"),
  storePath: z.string().min(1),
  secretsDir: z.string().min(1),
  /** Trunk alerts: posted to `webhook` when a trunk stays down (or back up) for `holdSeconds`; absent: no alerts. */
  alerts: z.strictObject({ webhook: z.url({ protocol: /^https?$/ }), holdSeconds: z.number().int().min(0) }).optional(),
  /**
   * standby only: where keepalived's notify script writes this host's role (role.json, see
   * HA_PATHS.state; API_HA_STATE inside the container) and which host of the pair this is. The API
   * serves gateways only while the role is active, starts and stops them on a change, reports the
   * role in /metrics and posts standby-active. Absent: one host, gateways always served.
   */
  ha: z.strictObject({ statePath: z.string().min(1), host: z.enum(["primary", "standby"]) }).optional(),
});
export type ApiSettings = z.output<typeof apiSettingsSchema>;

/** A secret as the API reads it from its file: the value without a trailing newline, never empty. */
const secretValue = z.string().min(1);
/** The secrets the API cannot run without. */
export const apiSecretsSchema = z.strictObject({
  eslPassword: secretValue,
  xmlCurlPassword: secretValue,
  /**
   * Fernet keys the API encrypts SIP passwords with at rest, one per line: the current one first,
   * then (after a rotation) the previous one, which the API needs once to re-seal its store.
   */
  fernetKey: secretValue,
  /** Bearer token for the API's write endpoints (the deploy's trunk and extension PUTs). */
  adminToken: secretValue,
});
export type ApiSecrets = z.output<typeof apiSecretsSchema>;
/** Secrets the API runs without. */
export const apiOptionalSecretsSchema = z.strictObject({
  /** Sent as the bearer token with each trunk alert (alerts.webhook). */
  alertsWebhookToken: secretValue.optional(),
});
export type ApiOptionalSecrets = z.output<typeof apiOptionalSecretsSchema>;

/** The secrets' file names in the API's secrets directory, one value per file, mode 0600. */
export const API_SECRET_FILES: { readonly [K in keyof ApiSecrets]-?: string } = {
  eslPassword: "esl_password",
  xmlCurlPassword: "xml_curl_password",
  fernetKey: "fernet_key",
  adminToken: "admin_token",
};
export const API_OPTIONAL_SECRET_FILES: { readonly [K in keyof ApiOptionalSecrets]-?: string } = {
  alertsWebhookToken: "alerts_webhook_token",
};
