/**
 * The stack configuration as the user writes it (Pulumi.<stack>.yaml, namespace `telephony`),
 * described once with zod. Types are inferred from the schemas, so the shape has one definition.
 *
 * Every key's description and example live here, in `.meta()`, and its default in `.default()`:
 * `npm run docs` generates the key reference in docs/configuration.md, the descriptions in
 * Pulumi.yaml and the stack files' JSON Schema from them (bin/docs.ts).
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

export const signalingPortSchema = z.strictObject({
  port: port.meta({ description: "The port the provider sends SIP to.", examples: [5060] }),
  protocol: protocol.meta({ description: "The transport on that port.", examples: ["udp"] }),
});

export const existingHostSchema = z.strictObject({
  ipv4: z.string().meta({
    description:
      "The machine's public IPv4 address: rendered into the profiles, and the address IP-authenticated providers whitelist.",
    examples: ["203.0.113.10"],
  }),
  ipv6: z.string().meta({
    description: "The machine's public IPv6 address (the address it answers on, not its network).",
    examples: ["2001:db8::10"],
  }),
  sshAddress: z
    .string()
    .optional()
    .meta({
      description: "Where the deploy connects over SSH, if not `ipv4` (a management address, a host name).",
      examples: ["203.0.113.11"],
    }),
  sshPort: port.default(22).meta({ description: "The port the machine's SSH server listens on.", examples: [2222] }),
});

/** The address pair `npm start` renders with, and the IDs of primary IPs to adopt. */
const previewAddressesSchema = z.strictObject({
  ipv4: z.string().meta({ description: "The IPv4 address `npm start` renders with.", examples: ["203.0.113.10"] }),
  ipv6: z.string().meta({ description: "The IPv6 address `npm start` renders with.", examples: ["2001:db8::10"] }),
});
const existingPrimaryIpIdsSchema = z.strictObject({
  ipv4: z
    .string()
    .optional()
    .meta({ description: "Hetzner ID of the IPv4 primary IP to adopt.", examples: ["12345678"] }),
  ipv6: z
    .string()
    .optional()
    .meta({ description: "Hetzner ID of the IPv6 primary IP to adopt.", examples: ["12345679"] }),
});

export const hostSchema = z.strictObject({
  provider: z
    .enum(["hetzner", "existing"])
    .default("hetzner")
    .meta({
      description:
        'hetzner: the stack creates a Hetzner Cloud server, its primary IPs and a cloud firewall. existing: the stack deploys onto a Debian 12 machine you bring, described by host.existing (docs/operations.md, "Bringing your own server"); location, serverType and image are then unused.',
      examples: ["existing"],
    }),
  existing: existingHostSchema.optional().meta({
    description:
      "provider existing only: the machine you bring, reached as root over SSH with the key in secrets.sshPrivateKey. Its public addresses are given here, since no primary IP resource reports them.",
  }),
  location: z
    .string()
    .min(1)
    .default("fsn1")
    .meta({ description: "The Hetzner Cloud location of the server.", examples: ["nbg1", "hel1"] }),
  serverType: z
    .string()
    .min(1)
    .default("cx22")
    .meta({ description: "The Hetzner Cloud server type.", examples: ["cx32"] }),
  image: z
    .string()
    .min(1)
    .default("debian-12")
    .meta({ description: "The Hetzner Cloud OS image the server is created from.", examples: ["debian-12"] }),
  hostname: z
    .string()
    .regex(HOST_NAME, { message: "must be a fully qualified host name such as sip.example.com" })
    .optional()
    .meta({
      description:
        "The host's fully qualified name: reverse DNS for both addresses, the DNS records, the ACME certificate and the default SIP domain. Absent: none of these.",
      examples: ["sip.example.com"],
    }),
  hostnameOwnedBy: z
    .array(z.string().min(1))
    .optional()
    .meta({
      description:
        'The stacks that own host.hostname (and freeswitch.domain); required with a host name. Only they write its DNS records (A, AAAA, SRV), point reverse DNS at it and ask ACME for its certificate: a stack copied with --copy-config-from is refused until it has a name of its own (docs/operations.md, "Cloning an environment").',
      examples: [["prod"]],
    }),
  adminSshRanges: z
    .array(z.string())
    .min(1, { message: "at least one admin range is needed to manage the host over SSH" })
    .meta({
      description:
        "CIDR ranges that may reach SSH (22/tcp) and the config API's Prometheus /metrics listener (9282/tcp, docs/monitoring.md). Nothing else is ever open to them by default. Ranges that together cover a whole address family (/0, or 0.0.0.0/1 and 128.0.0.0/1) are refused.",
      examples: [["198.51.100.0/24", "2001:db8:ad::/48"]],
    }),
  sshPublicKeys: z
    .array(z.string().regex(/^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+( .*)?$/))
    .min(1)
    .meta({
      description: "OpenSSH public keys (one-line format) installed for root; the stack adds its own deploy key.",
      examples: [["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOpsExampleKeyReplaceWithYourOwnPublicKeyAA ops@example"]],
    }),
  previewAddresses: previewAddressesSchema.default(REPLACED_HOST_ADDRESSES).meta({
    description:
      "The addresses `npm start` renders with, since it has no deployed stack to read them from. A deploy always uses the primary IPs' real addresses.",
  }),
  existingPrimaryIpIds: existingPrimaryIpIdsSchema.optional().meta({
    description: "Hetzner IDs of existing primary IPs to adopt instead of creating new ones.",
  }),
});

export const profileSchema = z.strictObject({
  bind: z.enum(["ipv4", "dual"]).meta({
    description:
      "ipv4: the profile listens on the server's IPv4. dual: on the server's IPv6, plus a twin profile `<name>-ipv4` with the same settings on the server's IPv4 (a Sofia profile binds one address: `::` is IPv6 only; docs/known-limits.md).",
    examples: ["dual"],
  }),
  ipv4SipPort: port.optional().meta({
    description:
      "bind dual only: the IPv4 twin's SIP port, if not sipPort (e.g. when another profile holds sipPort on the IPv4). The twin's TLS and WSS ports are tlsPort and wssPort.",
    examples: [5080],
  }),
  mediaFamily: z.enum(["ipv4", "ipv6"]).meta({
    description:
      "The address family of ext-sip-ip and ext-rtp-ip: media must use the family of the trunks on this profile.",
    examples: ["ipv6"],
  }),
  sipPort: port.default(5060).meta({ description: "The profile's SIP port (UDP and TCP).", examples: [5080] }),
  authCalls: z
    .boolean()
    .default(false)
    .meta({
      description:
        "Challenge callers the ACL does not admit (extensions). false: the profile serves trunks only, rejects everyone else and answers every REGISTER with 403.",
      examples: [true],
    }),
  context: name("profiles.<name>.context")
    .default("public")
    .meta({
      description: "The dialplan context calls on this profile enter.",
      examples: ["default"],
    }),
  tlsPort: port.optional().meta({ description: "The SIP-TLS port; absent: no SIP-TLS listener.", examples: [5061] }),
  wssPort: port
    .optional()
    .meta({ description: "The WebSocket (WSS) port; absent: no WSS listener.", examples: [7443] }),
});

export const trunkSchema = z.strictObject({
  preset: z
    .enum(["plusnet", "1und1", "twilio", "voipms", "generic"])
    .default("generic")
    .meta({
      description:
        "A provider preset (sip/presets.ts) whose fields this trunk starts from; every other field of the trunk overrides it.",
      examples: ["1und1"],
    }),
  profile: z
    .string()
    .optional()
    .meta({ description: "The Sofia profile the trunk's gateway belongs to.", examples: ["external-ipv4"] }),
  family: z
    .enum(["ipv4", "ipv6"])
    .optional()
    .meta({
      description: "The address family the trunk is reached on; it must equal its profile's mediaFamily.",
      examples: ["ipv6"],
    }),
  // Sent to the config API as the gateway's parameters: the same rules as its PUT, checked here
  // so a bad value is named before anything is deployed.
  proxy: sipTextSchema.optional().meta({
    description:
      "The provider's SIP proxy (host or address). An IP literal must lie inside the trunk's sourceRanges and be of the trunk's family.",
    examples: ["sip.example.net"],
  }),
  outboundProxy: sipTextSchema.optional().meta({
    description:
      "Where calls, REGISTER and OPTIONS pings are sent, if not to proxy. IP-authenticated trunks need a fixed one (DNS round-robin proxies answer INVITE and ACK from different servers). An IPv6 address may be written bare.",
    examples: ["2001:db8:1::129"],
  }),
  realm: sipTextSchema
    .optional()
    .meta({ description: "The authentication realm of a REGISTER trunk.", examples: ["sip.example.net"] }),
  register: z
    .boolean()
    .optional()
    .meta({
      description:
        "Whether the gateway registers with the provider (true) or the provider admits it by source address (false).",
      examples: [true],
    }),
  username: sipTextSchema.optional().meta({
    description: "The account's SIP user name (not secret; the password goes in secrets.trunkPasswords).",
    examples: ["493455664337"],
  }),
  fromDomain: sipTextSchema.optional().meta({
    description: "The gateway's from-domain: the domain in the From header of its requests.",
    examples: ["sip.example.net"],
  }),
  callerId: z
    .string()
    .optional()
    .meta({ description: "The trunk's number (E.164), presented on outgoing calls.", examples: ["+493455667290"] }),
  callerIdInFrom: z
    .boolean()
    .optional()
    .meta({
      description:
        "The gateway's caller-id-in-from: the caller's number, not the account's user name, in the From header of outgoing calls.",
      examples: [true],
    }),
  expireSeconds: z
    .number()
    .int()
    .min(60)
    .optional()
    .meta({
      description: "REGISTER trunks: the gateway's expire-seconds, the lifetime of its registration.",
      examples: [600],
    }),
  retrySeconds: z
    .number()
    .int()
    .min(5)
    .optional()
    .meta({
      description: "The gateway's retry-seconds: how long it waits before trying a failed registration again.",
      examples: [30],
    }),
  pingSeconds: z
    .number()
    .int()
    .min(5)
    .max(3600)
    .optional()
    .meta({
      description:
        "IP-authenticated trunks: seconds between OPTIONS pings (default 30). A trunk that leaves three pings in a row unanswered goes DOWN, refuses outbound calls and fails the post-deploy verification.",
      examples: [60],
    }),
  sourceRanges: z
    .array(z.string())
    .optional()
    .meta({
      description: "The ranges this provider sends SIP from: they feed the cloud firewall, UFW and the ACL.",
      examples: [["198.51.100.0/24"]],
    }),
  signaling: z.array(signalingPortSchema).optional().meta({
    description: "The ports and protocols the provider reaches us on, opened to sourceRanges only.",
  }),
  whitelistedIpv4: z
    .string()
    .optional()
    .meta({
      description:
        "IP-authenticated trunks: the IPv4 address the provider has on file for us, as written on its order form. Optional; when set, the checks refuse it unless it is the address this stack sends SIP from (with standby: the floating IPv4, never a host's own).",
      examples: ["203.0.113.20"],
    }),
  activeInStacks: z
    .array(z.string())
    .optional()
    .meta({
      description:
        "REGISTER trunks: the stacks allowed to register this account. A provider keeps one registration per account, so a cloned stack leaves the trunk off (no gateway, not admitted by any firewall layer) until it is named here.",
      examples: [["prod"]],
    }),
});

export const numberSchema = z.strictObject({
  number: z.string().meta({
    description: "The number in E.164 form, no spaces. It matches with +, 00 or bare digits.",
    examples: ["+493455667290"],
  }),
  use: freeTextSchema.meta({
    description: "What the number is for: a label in the dialplan (free text, no control characters or `${`).",
    examples: ["Support hotline"],
  }),
  trunk: z.string().meta({ description: "The trunk the number arrives on.", examples: ["plusnet"] }),
  destination: z.string().meta({ description: "The extension that takes the call.", examples: ["100"] }),
});

export const extensionSchema = z.strictObject({
  displayName: freeTextSchema.meta({
    description: "The extension's name, shown as its caller-ID name.",
    examples: ["Reception / IVR"],
  }),
  outboundCallerId: z
    .string()
    .optional()
    .meta({
      description:
        "The number (E.164) this extension presents on outside calls; it must be a number a trunk owns (in numbers, or a trunk's callerId), and the calls leave through that trunk. Absent: freeswitch.outboundTrunk.",
      examples: ["+493455667290"],
    }),
  permissions: z
    .array(z.string())
    .default([])
    .meta({
      description: "Permissions of this extension's config API token.",
      examples: [["sip:credentials:read"]],
    }),
});

/** Concurrent calls the RTP range must carry when nothing else is said (40 ports). */
export const DEFAULT_CONCURRENT_CALLS = 10;

export const rtpSchema = z.strictObject({
  start: port.meta({ description: "The first port of FreeSWITCH's RTP range.", examples: [16384] }),
  end: port.meta({ description: "The last port of FreeSWITCH's RTP range.", examples: [16484] }),
  concurrentCalls: z
    .number()
    .int()
    .min(1)
    .default(DEFAULT_CONCURRENT_CALLS)
    .meta({
      description:
        "How many calls the host must carry at once. Each takes 4 ports (an RTP and an RTCP port on each of its two legs, trunk and extension), so a range of fewer than 4 × concurrentCalls ports is refused.",
      examples: [20],
    }),
});

export const firewallSchema = z.strictObject({
  extraUdpRanges: z
    .array(
      z.strictObject({
        start: port.meta({ description: "The range's first port.", examples: [10000] }),
        end: port.meta({ description: "The range's last port.", examples: [10060] }),
        description: z
          .string()
          .min(1)
          .meta({ description: "What the range is for, written into the firewall rules.", examples: ["media relay"] }),
      }),
    )
    .default([])
    .meta({ description: "Further UDP ranges open to everyone (e.g. a media relay), beyond FreeSWITCH's RTP range." }),
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
  image: z
    .string()
    .min(1)
    .optional()
    .meta({
      description:
        "Absent: FreeSWITCH 1.11.2 from SignalWire's Debian packages, built into an image on the host with secrets.signalwireToken (docs/freeswitch-image.md). Set it only to run another image, pinned by digest (name@sha256:<digest>) or by local image ID (sha256:<id>); a tag is refused, it can move.",
      examples: [
        "registry.example.com/freeswitch@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
      ],
    }),
  apiBaseImage: z
    .string()
    .min(1)
    .default("node:24-bookworm-slim")
    .meta({
      description: "The base image the config API's image is built from on the host (a Node.js 24+ image).",
      examples: ["node:24-bookworm-slim"],
    }),
  domain: z
    .string()
    .regex(HOST_NAME, { message: "must be a host name such as sip.example.com" })
    .optional()
    .meta({
      description:
        "The SIP domain of the extensions. Absent: host.hostname, else the server's IPv4 address (with an IPv6-address domain FreeSWITCH 1.10.12 lets no phone register; the domain is a name only, phones reach it over IPv6 too).",
      examples: ["sip.example.com"],
    }),
  outboundTrunk: z
    .string()
    .optional()
    .meta({
      description:
        "The fallback trunk for outside calls of extensions without an outboundCallerId (or whose number's trunk is off in this stack), presenting that trunk's number. Others leave through the trunk that owns their caller ID.",
      examples: ["plusnet"],
    }),
  emergencyNumbers: z
    .array(z.string().regex(/^[0-9]{2,6}$/, { message: "an emergency number is 2-6 digits, e.g. 112" }))
    .default(["110", "112"])
    .meta({
      description:
        "Short numbers dialled as they are (no E.164) that always go out; no extension may use one as its id.",
      examples: [["112", "999"]],
    }),
  // Coerced: a value set with `pulumi config set --path` may arrive as the string "120".
  directoryCacheSeconds: z.coerce
    .number()
    .int()
    .min(0, { message: "must be 0 (no cache) or more seconds" })
    .max(MAX_DIRECTORY_CACHE_SECONDS, {
      message: `must be at most ${MAX_DIRECTORY_CACHE_SECONDS} seconds: FreeSWITCH's cache expiry overflows above 2147 s and then caches nothing`,
    })
    .default(DEFAULT_DIRECTORY_CACHE_SECONDS)
    .meta({
      description:
        "How long FreeSWITCH keeps an extension's directory answer in its user cache; 0: no cache, every REGISTER, INVITE and call to an extension asks the config API. The default suits phones behind NAT, which re-register every one to five minutes: most repeat lookups are served from memory. Every extension change the deploy makes is flushed from the cache before its PUT succeeds, so this bounds only what a flush that could not happen leaves behind: a changed password or removed extension then keeps authenticating from the cache for at most this long, while the PUT answers 503 and the deploy step fails. Above 1800 is refused: FreeSWITCH computes the expiry in a 32-bit integer of microseconds, which overflows above 2147 s and then caches nothing (api/README.md, \"FreeSWITCH's user cache\").",
      examples: [60],
    }),
});

export const dnsSchema = z.strictObject({
  zone: z
    .string()
    .min(1)
    .meta({
      description: "A Hetzner DNS zone this stack may write records into (host.hostname must lie inside it).",
      examples: ["example.com"],
    }),
  ttl: z
    .number()
    .int()
    .min(60)
    .default(300)
    .meta({ description: "The TTL in seconds of the records the stack writes.", examples: [3600] }),
});

export const verifySchema = z.strictObject({
  enabled: z
    .boolean()
    .optional()
    .meta({
      description:
        "After each update, read `sofia status` and fail the update unless every profile is RUNNING, every active REGISTER trunk is REGED and every IP-auth trunk answers its OPTIONS ping. Absent: on in production, off elsewhere.",
      examples: [true],
    }),
  timeoutSeconds: z
    .number()
    .int()
    .min(5)
    .max(900)
    .default(90)
    .meta({
      description: "How long the verification waits for everything to come up.",
      examples: [180],
    }),
});

const LETS_ENCRYPT = "https://acme-v02.api.letsencrypt.org/directory";

export const tlsSchema = z.strictObject({
  mode: z
    .enum(["acme", "self-signed", "off"])
    .optional()
    .meta({
      description:
        'acme: a certificate for host.hostname, obtained and renewed on the host by Debian\'s lego (docs/deployment.md, "TLS"); self-signed: made by the stack (browsers refuse it); off: no SIP-TLS or WSS listener. Absent: acme with a host name, self-signed without.',
      examples: ["acme"],
    }),
  email: z
    .string()
    .regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, { message: "must be an e-mail address" })
    .optional()
    .meta({
      description: "The ACME account's e-mail address (expiry notices); required with mode acme.",
      examples: ["hostmaster@example.com"],
    }),
  challenge: z
    .enum(["dns-01", "http-01"])
    .optional()
    .meta({
      description:
        "dns-01 through the stack's Hetzner DNS zone, or http-01 on port 80. Absent: dns-01 when dns is set, else http-01.",
      examples: ["dns-01"],
    }),
  acmeServer: z
    .string()
    .url()
    .default(LETS_ENCRYPT)
    .meta({
      description:
        "The ACME directory URL: Let's Encrypt's production directory by default; its staging directory for trials.",
      examples: ["https://acme-staging-v02.api.letsencrypt.org/directory"],
    }),
  // Refused with the fix rather than ignored, so nobody believes a pinned image still takes effect.
  clientImage: z
    .custom<never>(() => false, {
      error:
        "tls.clientImage is obsolete: the certificate is renewed by Debian's lego package on the host, no container image",
      params: { fix: "pulumi config rm --path 'telephony:tls.clientImage'" },
    })
    .optional()
    .meta({
      description:
        "Obsolete and refused: the renewal used to run acme.sh from this image; it now runs Debian's lego on the host. Remove it with `pulumi config rm --path 'telephony:tls.clientImage'`.",
      deprecated: true,
    }),
});

export const rotationSchema = z.strictObject({
  // Not named after the key: the policy pack refuses secret-looking names (fernet, key…) in plain config.
  // Coerced: a value set with `pulumi config set` may arrive as the string "1".
  apiStoreEncryption: z.coerce
    .number()
    .int()
    .min(0)
    .default(0)
    .meta({
      description:
        'The generation of the config API\'s store encryption (Fernet) key: raising it by one makes a new key and keeps the previous one until the API has re-sealed its store with the new key (docs/operations.md, "Rotating a secret").',
      examples: [1],
    }),
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
  // Coerced: a value set with `pulumi config set --path` may arrive as the string "120".
  drainSeconds: z.coerce
    .number()
    .int()
    .min(0)
    .max(3600)
    .default(DEFAULT_DRAIN_SECONDS)
    .meta({
      description:
        "How long a disruptive restart (FreeSWITCH's container, a Sofia profile, the TLS profiles after a renewal, the container's start from a new image) waits for calls to end: it polls `show calls count` once a second and restarts at the first moment it reads 0, or at this bound. 0: restart at once. Changing it changes the restart commands, so the next `pulumi up` runs them again.",
      examples: [120],
    }),
});

export const alertsSchema = z.strictObject({
  webhook: z.url({ protocol: /^https?$/, message: "must be an http(s) URL" }).meta({
    description:
      "Where the config API posts trunk alerts (http or https); its bearer token is secrets.alertsWebhookToken. Keep credentials out of the URL: it is plain config.",
    examples: ["https://alerts.example.com/hooks/telephony"],
  }),
  holdSeconds: z
    .number()
    .int()
    .min(0)
    .max(3600)
    .default(120)
    .meta({
      description:
        "How long a trunk must stay down (or back up) before the message goes: a trunk flapping faster sends nothing.",
      examples: [300],
    }),
});

/** The Hetzner Cloud API (floating IP assignment); the end-to-end suite points it at a stand-in. */
export const HETZNER_API = "https://api.hetzner.cloud/v1";

const floatingIpsSchema = z.strictObject({
  ipv4: z.string().meta({
    description: "The floating IPv4 address: what carriers see and IP-authenticated providers whitelist.",
    examples: ["203.0.113.20"],
  }),
  ipv6: z.string().meta({
    description: "The floating IPv6 network (a /64); the hosts answer on its first address (…::1).",
    examples: ["2001:db8:f100::/64"],
  }),
  ipv4Id: z.coerce
    .number()
    .int()
    .min(1)
    .meta({
      description: "The floating IPv4's Hetzner Cloud ID, which the hosts assign to themselves on takeover.",
      examples: [4711],
    }),
  ipv6Id: z.coerce
    .number()
    .int()
    .min(1)
    .meta({
      description: "The floating IPv6's Hetzner Cloud ID.",
      examples: [4712],
    }),
});

const serverIdsSchema = z.strictObject({
  primary: z.coerce
    .number()
    .int()
    .min(1)
    .meta({
      description: "The Hetzner Cloud server ID of host.existing.",
      examples: [1001],
    }),
  standby: z.coerce
    .number()
    .int()
    .min(1)
    .meta({
      description: "The Hetzner Cloud server ID of standby.existing.",
      examples: [1002],
    }),
});

export const standbySchema = z.strictObject({
  enabled: z
    .boolean()
    .default(false)
    .meta({
      description:
        "Run a second host that takes over the public SIP and media addresses (Hetzner floating IPs moved by keepalived) when the active one or its FreeSWITCH fails (docs/standby.md). Off: one host, as before.",
      examples: [true],
    }),
  network: z
    .string()
    .default("10.77.0.0/24")
    .meta({
      description:
        "The private IPv4 network the two hosts exchange VRRP over (unicast). hetzner: a Cloud Network the stack creates, the primary host on its .2, the standby on .3. existing: the machines' private link, configured the same way by you.",
      examples: ["10.77.0.0/24"],
    }),
  virtualRouterId: z
    .number()
    .int()
    .min(1)
    .max(255)
    .default(51)
    .meta({
      description: "The VRRP virtual router ID; unique among the VRRP pairs that share the private network.",
      examples: [52],
    }),
  hetznerApi: z
    .url({ protocol: /^https?$/, message: "must be an http(s) URL" })
    .default(HETZNER_API)
    .meta({
      description: "The Hetzner Cloud API the hosts call to move the floating IPs.",
      examples: [HETZNER_API],
    }),
  existing: existingHostSchema.optional().meta({
    description: "host.provider existing only: the second machine, described as host.existing describes the first.",
  }),
  floatingIps: floatingIpsSchema.optional().meta({
    description:
      "host.provider existing only: the Hetzner Cloud floating IPs the two machines share (with provider hetzner the stack creates them).",
  }),
  serverIds: serverIdsSchema.optional().meta({
    description: "host.provider existing only: the Hetzner Cloud server IDs the floating IPs are assigned to.",
  }),
});

export const stackConfigSchema = z.strictObject({
  environment: z
    .string()
    .regex(/^[a-z][a-z0-9-]*$/)
    .default("staging")
    .meta({
      description:
        "The environment's name; production protects the primary IPs and turns on post-deploy verification by default.",
      examples: ["production"],
    }),
  host: hostSchema.meta({ description: "The server: where it runs, its name, and who may manage it over SSH." }),
  profiles: z
    .record(z.string(), profileSchema)
    .meta({ description: "Sofia SIP profiles by name: the addresses and ports FreeSWITCH listens on." }),
  trunks: z.record(z.string(), trunkSchema).meta({
    description:
      "SIP trunks by name; the name is also the gateway's name and must be unique stack-wide. A preset supplies the provider's facts, any field overrides them.",
  }),
  numbers: z.array(numberSchema).default([]).meta({
    description: "The numbers calls arrive on, each routed to an extension; calls to any other number are refused.",
  }),
  extensions: z.record(z.string(), extensionSchema).default({}).meta({
    description: "Extensions (phones) by id; their SIP passwords are generated by the stack.",
  }),
  rtp: rtpSchema.default({ start: 16384, end: 16484, concurrentCalls: DEFAULT_CONCURRENT_CALLS }).meta({
    description: "FreeSWITCH's RTP port range; the firewalls open exactly this range.",
  }),
  firewall: firewallSchema
    .default({ extraUdpRanges: [] })
    .meta({ description: "Openings beyond what the stack's own services need." }),
  freeswitch: freeswitchSchema.prefault({}).meta({
    description: "Which FreeSWITCH runs, the SIP domain and outbound routing; every field has a default.",
  }),
  dns: dnsSchema.optional().meta({
    description:
      "SRV and address records in a Hetzner DNS zone (needs host.hostname inside the zone and secrets.dnsToken). Absent: no records.",
  }),
  tls: tlsSchema
    .default({ acmeServer: LETS_ENCRYPT })
    .meta({ description: "The certificate of the SIP-TLS and WSS listeners." }),
  verify: verifySchema
    .default({ timeoutSeconds: 90 })
    .meta({ description: "Post-deploy verification of `sofia status`; on by default in production." }),
  rotation: rotationSchema.default({ apiStoreEncryption: 0 }).meta({
    description: "Rotation generations of generated secrets that need more than `pulumi up --replace`.",
  }),
  maintenance: maintenanceSchema.default({ drainSeconds: DEFAULT_DRAIN_SECONDS }).meta({
    description: "Disruptive restarts wait for calls to end first, at most drainSeconds.",
  }),
  alerts: alertsSchema.optional().meta({
    description:
      "Trunk alerts: the config API posts one JSON message to a webhook when a trunk goes down and one when it is back (docs/monitoring.md). Absent: none.",
  }),
  standby: standbySchema.optional().meta({
    description:
      "A second host that takes over when the active one fails (docs/standby.md). Absent or enabled false: one host.",
  }),
});

/** Secret configuration: `telephony:secrets`, set with `pulumi config set --secret --path`. */
export const stackSecretsSchema = z
  .strictObject({
    trunkPasswords: z
      .record(z.string(), passwordTextSchema)
      .default({})
      .meta({
        description:
          "REGISTER trunks' passwords, by trunk name: `pulumi config set --secret --path 'telephony:secrets.trunkPasswords.<trunk>' <password>`.",
        examples: [{ oneandone: "the-account-password" }],
      }),
    dnsToken: z
      .string()
      .min(1)
      .optional()
      .meta({
        description:
          "Required with dns: a Hetzner Cloud API token of a project that holds only the DNS zone. The stack writes the zone's records with it, and the host's ACME client (dns-01) answers challenges with it; it can change that zone and nothing else.",
        examples: ["the-dns-project-token"],
      }),
    acmeDnsToken: z
      .string()
      .min(1)
      .optional()
      .meta({
        description: "The former name of dnsToken, still read when dnsToken is not set.",
        examples: ["the-dns-project-token"],
      }),
    signalwireToken: z
      .string()
      .min(1)
      .optional()
      .meta({
        description:
          "A SignalWire personal access token: FreeSWITCH's Debian packages are served only with one. Required unless freeswitch.image is set.",
        examples: ["pat_the-signalwire-token"],
      }),
    alertsWebhookToken: z
      .string()
      .min(1)
      .optional()
      .meta({
        description: "With alerts: sent as the bearer token with each trunk alert.",
        examples: ["the-webhook-token"],
      }),
    hetznerFloatingIpToken: z
      .string()
      .min(1)
      .optional()
      .meta({
        description:
          "With standby: the Hetzner Cloud API token the hosts' keepalived uses to move the floating IPs on takeover, stored on both hosts with mode 0600. A Hetzner token cannot be limited to a resource: it can do anything in its project (docs/standby.md).",
        examples: ["the-floating-ip-token"],
      }),
    sshPrivateKey: z
      .string()
      .min(1)
      .optional()
      .meta({
        description:
          "host.provider existing only: the private key (OpenSSH format) that logs in as root on the machine; read it from a file: `pulumi config set --secret --path 'telephony:secrets.sshPrivateKey' < ~/.ssh/id_ed25519`.",
        examples: ["-----BEGIN OPENSSH PRIVATE KEY-----\n…\n-----END OPENSSH PRIVATE KEY-----\n"],
      }),
  })
  .meta({
    description:
      "The stack's secrets, encrypted in the stack file; set each with `pulumi config set --secret --path 'telephony:secrets.<field>' <value>`.",
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
export type StandbyConfig = z.output<typeof standbySchema>;

export { NAME as NAME_PATTERN };
