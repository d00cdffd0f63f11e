/**
 * The stack configuration as the user writes it (Pulumi.<stack>.yaml, namespace `telephony`),
 * described once with zod. Types are inferred from the schemas, so the shape has one definition.
 *
 * The schema checks the shape of each value; cross-field rules (a proxy inside its trunk's
 * ranges, a number routed to an existing extension, ...) live in checks.ts.
 */
import { z } from "zod";
import { REPLACED_HOST_ADDRESSES } from "./presetHost";
import { freeTextSchema, passwordTextSchema, sipTextSchema } from "./text";

export const E164 = /^\+[1-9]\d{6,14}$/;
const NAME = /^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$/;

const name = (what: string) =>
  z.string().regex(NAME, {
    message: `${what} must be 2-40 characters of a-z, 0-9 and '-', starting and ending with a letter or digit`,
  });

const HOST_NAME = /^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$/i;

const port = z.number().int().min(1).max(65535);
const protocol = z.enum(["udp", "tcp"]);

export const signalingPortSchema = z.strictObject({ port, protocol });

/**
 * provider existing: a Debian 12 machine you bring (a Hetzner dedicated server, any VPS), reached
 * as root over SSH with the key in `telephony:secrets.sshPrivateKey`. Its public addresses are
 * given here, since no primary IP resource reports them.
 */
export const existingHostSchema = z.strictObject({
  /** The machine's public IPv4: rendered into the profiles, whitelisted by IP-auth providers. */
  ipv4: z.string(),
  /** The machine's public IPv6 (the address it answers on, not the network). */
  ipv6: z.string(),
  /** Where the deploy connects over SSH; default: ipv4. */
  sshAddress: z.string().optional(),
  sshPort: port.default(22),
});

export const hostSchema = z.strictObject({
  /** hetzner: a Hetzner Cloud server with primary IPs and a cloud firewall; existing: host.existing. */
  provider: z.enum(["hetzner", "existing"]).default("hetzner"),
  /** provider existing only. */
  existing: existingHostSchema.optional(),
  /** Hetzner location, e.g. fsn1, nbg1, hel1. */
  location: z.string().min(1).default("fsn1"),
  serverType: z.string().min(1).default("cx22"),
  image: z.string().min(1).default("debian-12"),
  /** Fully qualified name; enables reverse DNS (and TLS/SRV where configured). */
  hostname: z.string().regex(HOST_NAME, { message: "must be a fully qualified host name such as sip.example.com" }).optional(),
  /**
   * The stacks that own host.hostname (and freeswitch.domain): only they write its DNS records
   * (A, AAAA, SRV), point reverse DNS at it and ask ACME for its certificate. Like a REGISTER
   * trunk's activeInStacks: a stack copied with --copy-config-from does not claim the name.
   */
  hostnameOwnedBy: z.array(z.string().min(1)).optional(),
  /** Ranges that may reach SSH (22/tcp). Nothing else is ever open to them by default. */
  adminSshRanges: z.array(z.string()).min(1, { message: "at least one admin range is needed to manage the host over SSH" }),
  /** Public SSH keys (OpenSSH one-line format) installed for root. */
  sshPublicKeys: z.array(z.string().regex(/^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+( .*)?$/)).min(1),
  /**
   * Addresses `npm start` renders with, since it has no deployed stack to read them from.
   * A deploy always uses the primary IPs' real addresses.
   */
  previewAddresses: z
    .strictObject({ ipv4: z.string(), ipv6: z.string() })
    .default(REPLACED_HOST_ADDRESSES),
  /** Adopt existing primary IPs (their Hetzner IDs) instead of creating new ones. */
  existingPrimaryIpIds: z.strictObject({ ipv4: z.string().optional(), ipv6: z.string().optional() }).optional(),
});

export const profileSchema = z.strictObject({
  /**
   * ipv4: the server's IPv4. dual: the server's IPv6, plus a twin profile `<name>-ipv4` with the
   * same settings on the server's IPv4 (a Sofia profile binds one address: `::` is IPv6 only).
   */
  bind: z.enum(["ipv4", "dual"]),
  /** bind dual: the IPv4 twin's SIP port (default sipPort). Its TLS and WSS ports are tlsPort and wssPort. */
  ipv4SipPort: port.optional(),
  /** Address family of ext-sip-ip and ext-rtp-ip: media must use the trunk's family. */
  mediaFamily: z.enum(["ipv4", "ipv6"]),
  sipPort: port.default(5060),
  /** Challenge callers the ACL does not admit (extensions); off rejects them. */
  authCalls: z.boolean().default(false),
  context: name("profiles.<name>.context").default("public"),
  tlsPort: port.optional(),
  wssPort: port.optional(),
});

export const trunkSchema = z.strictObject({
  /** A provider preset whose fields this trunk starts from; every field below overrides it. */
  preset: z.enum(["plusnet", "1und1", "twilio", "voipms", "generic"]).default("generic"),
  profile: z.string().optional(),
  family: z.enum(["ipv4", "ipv6"]).optional(),
  // Sent to the config API as the gateway's parameters: the same rules as its PUT, checked here
  // so a bad value is named before anything is deployed.
  proxy: sipTextSchema.optional(),
  outboundProxy: sipTextSchema.optional(),
  realm: sipTextSchema.optional(),
  register: z.boolean().optional(),
  username: sipTextSchema.optional(),
  fromDomain: sipTextSchema.optional(),
  callerId: z.string().optional(),
  callerIdInFrom: z.boolean().optional(),
  expireSeconds: z.number().int().min(60).optional(),
  retrySeconds: z.number().int().min(5).optional(),
  /**
   * IP-authenticated trunks: seconds between OPTIONS pings (default 30). A trunk that stops
   * answering goes DOWN, refuses outbound calls and fails the post-deploy verification.
   */
  pingSeconds: z.number().int().min(5).max(3600).optional(),
  /** Source ranges this provider sends SIP from: feed the cloud firewall, UFW and the ACL. */
  sourceRanges: z.array(z.string()).optional(),
  /** Ports/protocols the provider reaches us on, opened to sourceRanges only. */
  signaling: z.array(signalingPortSchema).optional(),
  /**
   * REGISTER trunks: the stacks allowed to register this account. A provider keeps one
   * registration per account, so a cloned stack must not take production's.
   */
  activeInStacks: z.array(z.string()).optional(),
});

export const numberSchema = z.strictObject({
  number: z.string(),
  /** What the number is for: a label in the dialplan (free text, no control characters or `${`). */
  use: freeTextSchema,
  /** The trunk the number arrives on and leaves by. */
  trunk: z.string(),
  /** The extension that takes the call. */
  destination: z.string(),
});

export const extensionSchema = z.strictObject({
  displayName: freeTextSchema,
  /** Caller ID presented when this extension calls out, E.164. */
  outboundCallerId: z.string().optional(),
  /** Permissions of this extension's API token, e.g. "sip:credentials:read". */
  permissions: z.array(z.string()).default([]),
});

/** Concurrent calls the RTP range must carry when nothing else is said (40 ports). */
export const DEFAULT_CONCURRENT_CALLS = 10;

export const rtpSchema = z.strictObject({
  start: port,
  end: port,
  /** Calls the host must carry at once; the range must hold their RTP and RTCP ports (checks.ts). */
  concurrentCalls: z.number().int().min(1).default(DEFAULT_CONCURRENT_CALLS),
});

export const firewallSchema = z.strictObject({
  /** Further UDP ranges open to everyone (e.g. a media relay), beyond FreeSWITCH's RTP range. */
  extraUdpRanges: z
    .array(z.strictObject({ start: port, end: port, description: z.string().min(1) }))
    .default([]),
});

/**
 * How long FreeSWITCH keeps a user's directory answer in its own user cache: 300 s. A phone's
 * REGISTER, its INVITEs and calls to it each look the user up; behind NAT phones re-register every
 * one to five minutes, so five minutes serves most repeat lookups from memory instead of over
 * HTTP. Every change the API makes is flushed from the cache before it is reported done; the TTL
 * bounds only what a flush that could not happen (FreeSWITCH unreachable) leaves behind, and five
 * minutes of an old password is a short window.
 */
export const DEFAULT_DIRECTORY_CACHE_SECONDS = 300;
/**
 * FreeSWITCH computes the expiry as `cache_ms * 1000` in a 32-bit int (switch_xml.c,
 * switch_xml_locate_user_merged): above 2147 s it overflows and the entry is never used.
 */
export const MAX_DIRECTORY_CACHE_SECONDS = 1800;

export const freeswitchSchema = z.strictObject({
  /**
   * Absent (the default): FreeSWITCH's own Debian packages, installed into an image on the host
   * (needs secrets.signalwireToken). Set it only to run another image, pinned by digest
   * (name@sha256:<digest>) or by local image ID (sha256:<id>); docs/freeswitch-image.md says what it must offer.
   */
  image: z.string().min(1).optional(),
  /** Base image the config API's image is built from on the host (a Node.js 24+ image). */
  apiBaseImage: z.string().min(1).default("node:24-bookworm-slim"),
  /** SIP domain for extensions; defaults to host.hostname, else the server's IPv4 address (see sipDomain). */
  domain: z.string().regex(HOST_NAME, { message: "must be a host name such as sip.example.com" }).optional(),
  /**
   * Fallback trunk for outbound calls: used by extensions without an outboundCallerId (or whose
   * caller ID's trunk is off in this stack). Others leave through the trunk owning their caller ID.
   */
  outboundTrunk: z.string().optional(),
  /** Numbers dialled as they are (no E.164) that always go out, e.g. 110 and 112 in Germany. */
  emergencyNumbers: z.array(z.string().regex(/^[0-9]{2,6}$/, { message: "an emergency number is 2-6 digits, e.g. 112" })).default(["110", "112"]),
  /** Seconds FreeSWITCH caches a user's directory answer (0: no cache; see DEFAULT_DIRECTORY_CACHE_SECONDS). */
  // Coerced: a value set with `pulumi config set --path` may arrive as the string "120".
  directoryCacheSeconds: z.coerce
    .number()
    .int()
    .min(0, { message: "must be 0 (no cache) or more seconds" })
    .max(MAX_DIRECTORY_CACHE_SECONDS, { message: `must be at most ${MAX_DIRECTORY_CACHE_SECONDS} seconds: FreeSWITCH's cache expiry overflows above 2147 s and then caches nothing` })
    .default(DEFAULT_DIRECTORY_CACHE_SECONDS),
});

export const dnsSchema = z.strictObject({
  /** A Hetzner DNS zone this stack may write records into, e.g. "xynap.de". */
  zone: z.string().min(1),
  /** TTL of the records the stack writes. */
  ttl: z.number().int().min(60).default(300),
});

export const verifySchema = z.strictObject({
  /** Read `sofia status` after each update and fail it when a profile or REGISTER trunk is not up. */
  enabled: z.boolean().optional(),
  timeoutSeconds: z.number().int().min(5).max(900).default(90),
});

export const tlsSchema = z.strictObject({
  /**
   * acme: a certificate for host.hostname, obtained and renewed on the host; self-signed: made by
   * the stack (browsers refuse it); off: no SIP-TLS or WSS listener. Default: acme with a host
   * name, self-signed without.
   */
  mode: z.enum(["acme", "self-signed", "off"]).optional(),
  /** ACME account e-mail (expiry notices). */
  email: z.string().regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, { message: "must be an e-mail address" }).optional(),
  /** dns-01 through the stack's Hetzner DNS zone (default when `dns` is set), else http-01 on port 80. */
  challenge: z.enum(["dns-01", "http-01"]).optional(),
  acmeServer: z.string().url().default("https://acme-v02.api.letsencrypt.org/directory"),
  /**
   * Obsolete: the renewal ran acme.sh from this image; it now runs Debian's lego on the host. Refused
   * with the fix rather than ignored, so nobody believes a pinned image still takes effect.
   */
  clientImage: z
    .custom<never>(() => false, {
      error: "tls.clientImage is obsolete: the certificate is renewed by Debian's lego package on the host, no container image",
      params: { fix: "pulumi config rm --path 'telephony:tls.clientImage'" },
    })
    .optional(),
});

export const rotationSchema = z.strictObject({
  /**
   * Generation of the config API's store encryption (Fernet) key: raising it by one makes a new key and keeps the
   * previous one until the API has re-sealed its store with the new key (docs/operations.md, "Rotating a secret").
   */
  // Not named after the key: the policy pack refuses secret-looking names (fernet, key…) in plain config.
  // Coerced: a value set with `pulumi config set` may arrive as the string "1".
  apiStoreEncryption: z.coerce.number().int().min(0).default(0),
});

/**
 * How long a disruptive restart (a FreeSWITCH container restart, a Sofia profile restart, the TLS
 * profiles' restart after a renewal, the container's start from a new image) waits for calls to
 * end: 300 s. Long enough for most calls to end (most telephone calls last a few minutes, so
 * on a host this size an idle moment usually comes well within it); short enough that a deploy is
 * held at most five minutes per restarting step, not for as long as the longest call (an
 * hour-long call would otherwise stall it). The restart happens at the first idle moment or at the
 * bound, whichever comes first: new calls are not held meanwhile, so on a busy host the bound is
 * reached and the calls still up then drop.
 */
export const DEFAULT_DRAIN_SECONDS = 300;

export const maintenanceSchema = z.strictObject({
  /**
   * Seconds a disruptive restart waits for `show calls count` to reach 0 before restarting anyway
   * (0: restart at once). Changing it changes the restart commands, so the next `pulumi up`
   * re-runs them (each drained with the new bound).
   */
  // Coerced: a value set with `pulumi config set --path` may arrive as the string "120".
  drainSeconds: z.coerce.number().int().min(0).max(3600).default(DEFAULT_DRAIN_SECONDS),
});

/** Trunk alerts: the config API posts one JSON message when a trunk goes down and one when it is back. */
export const alertsSchema = z.strictObject({
  /** Where to post (http or https); its bearer token is `telephony:secrets.alertsWebhookToken`. */
  webhook: z.url({ protocol: /^https?$/, message: "must be an http(s) URL" }),
  /** How long a trunk must stay down (or back up) before the message goes: a trunk flapping faster sends nothing. */
  holdSeconds: z.number().int().min(0).max(3600).default(120),
});

export const stackConfigSchema = z.strictObject({
  /** "production" protects the primary IPs and turns on post-deploy verification by default. */
  environment: z.string().regex(/^[a-z][a-z0-9-]*$/).default("staging"),
  host: hostSchema,
  profiles: z.record(z.string(), profileSchema),
  trunks: z.record(z.string(), trunkSchema),
  numbers: z.array(numberSchema).default([]),
  extensions: z.record(z.string(), extensionSchema).default({}),
  rtp: rtpSchema.default({ start: 16384, end: 16484, concurrentCalls: DEFAULT_CONCURRENT_CALLS }),
  firewall: firewallSchema.default({ extraUdpRanges: [] }),
  /** Optional: every field has a default (FreeSWITCH's packages, a Node.js base image). */
  freeswitch: freeswitchSchema.prefault({}),
  /** Optional: SRV and address records in a Hetzner DNS zone (needs host.hostname inside the zone). */
  dns: dnsSchema.optional(),
  tls: tlsSchema.default({ acmeServer: "https://acme-v02.api.letsencrypt.org/directory" }),
  /** Post-deploy verification; on by default in production. */
  verify: verifySchema.default({ timeoutSeconds: 90 }),
  /** Rotation generations of generated secrets that need more than `pulumi up --replace`. */
  rotation: rotationSchema.default({ apiStoreEncryption: 0 }),
  /** Disruptive restarts wait for calls to end first, at most drainSeconds. */
  maintenance: maintenanceSchema.default({ drainSeconds: DEFAULT_DRAIN_SECONDS }),
  /** Trunk alerts to a webhook; absent: none. */
  alerts: alertsSchema.optional(),
});

/** Secret configuration: `telephony:secrets`, set with `pulumi config set --secret --path`. */
export const stackSecretsSchema = z.strictObject({
  /** REGISTER trunks' passwords, by trunk name. */
  trunkPasswords: z.record(z.string(), passwordTextSchema).default({}),
  /**
   * Hetzner Cloud API token of a project that holds only the DNS zone: the stack writes the zone's
   * records with it, and the host's ACME client (dns-01) answers challenges with it. It can change
   * that zone and nothing else: no server, IP or firewall of the stack.
   */
  dnsToken: z.string().min(1).optional(),
  /** The former name of dnsToken, still read when dnsToken is not set (sip/config.ts dnsTokenOf). */
  acmeDnsToken: z.string().min(1).optional(),
  /**
   * SignalWire personal access token: FreeSWITCH's Debian packages are served only with one. Needed
   * when freeswitch.image is absent (the host builds the image from the packages).
   */
  signalwireToken: z.string().min(1).optional(),
  /** alerts.webhook: sent as the bearer token with each trunk alert. */
  alertsWebhookToken: z.string().min(1).optional(),
  /** host.provider existing: the private key (OpenSSH format) that logs in as root on the machine. */
  sshPrivateKey: z.string().min(1).optional(),
});

export type StackConfigInput = z.input<typeof stackConfigSchema>;
export type StackConfig = z.output<typeof stackConfigSchema>;
export type TrunkConfig = z.output<typeof trunkSchema>;
export type ProfileConfig = z.output<typeof profileSchema>;
export type NumberConfig = z.output<typeof numberSchema>;
export type ExtensionConfig = z.output<typeof extensionSchema>;
export type SignalingPort = z.output<typeof signalingPortSchema>;
export type ExistingHostConfig = z.output<typeof existingHostSchema>;
export type DnsConfig = z.output<typeof dnsSchema>;
export type StackSecrets = z.output<typeof stackSecretsSchema>;

export { NAME as NAME_PATTERN };
