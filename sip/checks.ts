/**
 * Every known pitfall of this stack (a wrong realm, a trunk that must use IPv6, an address outside
 * the firewall, ...) as a check. Each returns problems that name the config key
 * and say the fix; buildModel (stack.ts) raises them all at once, before any resource is registered.
 */
import { checkFirewallLimits, inboundRules } from "./firewall";
import { CONFIG_API_PORT, ESL_PORT, METRICS_PORT, SIP_TLS_PORT, SSH_PORT } from "./hostLayout";
import { ipv4TwinName, type BuildContext, type Profile, type StackModel, type Trunk } from "./model";
import {
  cidrContains,
  familiesCoveredEntirely,
  isBracketed,
  ipv6HostAddress,
  isNetworkAligned,
  parseCidr,
  parseIp,
  splitHostPort,
  stripBrackets,
  type Cidr,
} from "./net";
import { PRESETS } from "./presets";
import { trunkOwning } from "./routing";
import { isPinnedImage } from "./freeswitchImage";
import { problem, type Problem } from "./problems";
import { E164, NAME_PATTERN, type StackConfig } from "./schema";

/** Dialplan contexts the stack renders; a profile must hand calls to one of them. */
export const CONTEXTS = ["public", "default"] as const;

function checkCidrList(key: string, values: readonly string[], problems: Problem[]): Cidr[] {
  const out: Cidr[] = [];
  values.forEach((value, i) => {
    const cidr = parseCidr(value);
    if (!cidr) {
      problems.push(
        problem(
          `${key}[${i}]`,
          `"${value}" is not a CIDR`,
          `write it as address/prefix, e.g. 198.51.100.0/24 or 2001:db8::/64`,
        ),
      );
    } else if (!isNetworkAligned(cidr)) {
      problems.push(
        problem(
          `${key}[${i}]`,
          `"${value}" has host bits set beyond /${cidr.prefix}`,
          `use the network address of that range (the firewall would round it silently)`,
        ),
      );
    } else if (cidr.prefix === 0) {
      problems.push(
        problem(`${key}[${i}]`, `"${value}" admits the whole Internet`, `list only the ranges that need access`),
      );
    } else {
      out.push(cidr);
    }
  });
  // Judged on the union: several wide ranges can together admit everyone without any being /0.
  for (const family of familiesCoveredEntirely(out)) {
    const parts = out.filter((c) => c.family === family).map((c) => c.text);
    problems.push(
      problem(
        key,
        `${parts.join(" + ")} together admit the whole ${family === "ipv4" ? "IPv4" : "IPv6"} Internet`,
        `list only the ranges that need access`,
      ),
    );
  }
  return out;
}

/** "sip.xynap.de" → "sip-staging.xynap.de": a name of the clone's own, next to the original. */
function nameForStack(hostname: string, stack: string): string {
  const [first, ...rest] = hostname.split(".");
  return [`${first}-${stack}`, ...rest].join(".");
}

/**
 * A host name is unique: its DNS records, its reverse DNS and its certificate can belong to one
 * stack only. A config copied with --copy-config-from keeps production's name and its owner list,
 * so the copy is refused until it is given a name of its own (or is named an owner on purpose).
 */
function checkHostnameOwnership(model: StackModel, ctx: BuildContext, problems: Problem[]): void {
  const { hostname, hostnameOwnedBy } = model.host;
  if (hostname === undefined) {
    if (hostnameOwnedBy)
      problems.push(
        problem(
          "host.hostnameOwnedBy",
          "names the owners of a host name, but host.hostname is not set",
          "set host.hostname, or remove host.hostnameOwnedBy",
        ),
      );
    return;
  }
  const own = nameForStack(hostname, ctx.stack);
  if (!hostnameOwnedBy || hostnameOwnedBy.length === 0) {
    problems.push(
      problem(
        "host.hostnameOwnedBy",
        `host.hostname ${hostname} gets DNS records, reverse DNS and a certificate that only one stack may hold: name the stacks that own it, so a copy of this config does not take them`,
        `set host.hostnameOwnedBy to ["${ctx.stack}"]`,
      ),
    );
  } else if (!hostnameOwnedBy.includes(ctx.stack)) {
    const domain = model.freeswitch.domain
      ? `, and set freeswitch.domain to a name of this stack's own (its SRV records belong to ${hostnameOwnedBy.join(", ")} too)`
      : "";
    problems.push(
      problem(
        "host.hostname",
        `${hostname} belongs to ${hostnameOwnedBy.join(", ")} (host.hostnameOwnedBy), not to this stack (${ctx.stack}): it would write the same DNS records, point its addresses' reverse DNS at it and ask ACME for its certificate`,
        `give this stack a name of its own: pulumi config set --path telephony:host.hostname ${own} && pulumi config set --path 'telephony:host.hostnameOwnedBy[0]' ${ctx.stack}${domain}`,
      ),
    );
  }
}

function checkAddressPair(key: string, { ipv4, ipv6 }: { ipv4: string; ipv6: string }, problems: Problem[]): void {
  if (parseIp(ipv4)?.family !== "ipv4")
    problems.push(problem(`${key}.ipv4`, `"${ipv4}" is not an IPv4 address`, "write a dotted quad, e.g. 203.0.113.10"));
  if (parseIp(ipv6)?.family !== "ipv6" || isBracketed(ipv6))
    problems.push(
      problem(`${key}.ipv6`, `"${ipv6}" is not a bare IPv6 address`, "write it without brackets, e.g. 2001:db8::2"),
    );
}

function checkHost(model: StackModel, ctx: BuildContext, problems: Problem[]): void {
  checkHostnameOwnership(model, ctx, problems);
  checkCidrList("host.adminSshRanges", model.host.adminSshRanges, problems);
  checkAddressPair("host.previewAddresses", model.host.previewAddresses, problems);
}

/** host.provider existing: the machine's addresses and the key to reach it; no Hetzner-only keys. */
function checkExistingHost(model: StackModel, ctx: BuildContext, problems: Problem[]): void {
  const { provider, existing, existingPrimaryIpIds } = model.host;
  if (provider !== "existing") {
    if (existing)
      problems.push(
        problem(
          "host.existing",
          "is read only with host.provider existing",
          "remove host.existing, or set host.provider to existing",
        ),
      );
    return;
  }
  if (!existing) {
    problems.push(
      problem(
        "host.existing",
        "host.provider existing needs the machine's addresses",
        "set host.existing.ipv4 and host.existing.ipv6 (and sshAddress if SSH is reached elsewhere)",
      ),
    );
    return;
  }
  checkAddressPair("host.existing", existing, problems);
  if (
    existing.sshAddress !== undefined &&
    !parseIp(existing.sshAddress) &&
    !/^[a-z0-9.-]+$/i.test(existing.sshAddress)
  ) {
    problems.push(
      problem(
        "host.existing.sshAddress",
        `"${existing.sshAddress}" is neither an IP address nor a host name`,
        "write e.g. 203.0.113.10 or host.example.org, without brackets or a port (that is sshPort)",
      ),
    );
  }
  if (existingPrimaryIpIds) {
    problems.push(
      problem(
        "host.existingPrimaryIpIds",
        "adopts Hetzner primary IPs, which host.provider existing does not use",
        "remove host.existingPrimaryIpIds; the machine's addresses are host.existing.ipv4 and ipv6",
      ),
    );
  }
  if (ctx.secretPaths !== "unknown" && !ctx.secretPaths.has("sshPrivateKey")) {
    problems.push(
      problem(
        "secrets.sshPrivateKey",
        "host.provider existing logs in as root with a private key, and none is set",
        "pulumi config set --secret --path 'telephony:secrets.sshPrivateKey' < ~/.ssh/id_ed25519",
      ),
    );
  }
}

function checkProfiles(model: StackModel, config: StackConfig, problems: Problem[]): void {
  checkListeners(model, config, problems);
  // An IPv4 twin has its dual profile's settings: problems are reported once, on that profile.
  for (const p of model.profiles.filter((x) => x.ipv4Of === undefined)) {
    const key = `profiles.${p.name}`;
    if (!NAME_PATTERN.test(p.name))
      problems.push(
        problem(key, `profile name "${p.name}" is not a valid name`, "use lower-case letters, digits and '-'"),
      );
    if (!(CONTEXTS as readonly string[]).includes(p.context)) {
      problems.push(
        problem(
          `${key}.context`,
          `context "${p.context}" is not rendered by this stack`,
          `use one of ${CONTEXTS.join(", ")}`,
        ),
      );
    }
    const ports = [p.sipPort, p.tlsPort, p.wssPort].filter((x): x is number => x !== undefined);
    if (new Set(ports).size !== ports.length)
      problems.push(problem(key, "sipPort, tlsPort and wssPort must differ", "give each listener its own port"));
    for (const reserved of [ESL_PORT, CONFIG_API_PORT, SSH_PORT, METRICS_PORT]) {
      if (ports.includes(reserved))
        problems.push(
          problem(
            key,
            `port ${reserved} is reserved (SSH, ESL, the config API or its /metrics listener)`,
            "choose another port",
          ),
        );
    }
    if (p.bind === "ipv4" && p.mediaFamily === "ipv6") {
      problems.push(
        problem(
          `${key}.mediaFamily`,
          "a profile bound to IPv4 only cannot carry IPv6 media",
          'bind it dual ("dual") or set mediaFamily to ipv4',
        ),
      );
    }
  }
}

/**
 * RTP ports one call takes on this host: FreeSWITCH bridges the trunk leg and the extension leg,
 * each with its own media stream, and each stream takes an even RTP port and the odd RTCP port
 * above it (switch_rtp_request_port hands out even ports only).
 */
export const RTP_PORTS_PER_CALL = 4;

/**
 * Two profiles cannot listen on one address and port. A dual profile's IPv4 twin shares the IPv4
 * address with every `bind: ipv4` profile (a trunk profile on 5060, typically), so its SIP port
 * is ipv4SipPort.
 */
function checkListeners(model: StackModel, config: StackConfig, problems: Problem[]): void {
  for (const [name, p] of Object.entries(config.profiles)) {
    if (p.bind === "dual" && config.profiles[ipv4TwinName(name)] !== undefined) {
      problems.push(
        problem(
          `profiles.${ipv4TwinName(name)}`,
          `the name is taken by the IPv4 twin of the dual profile ${name}`,
          `rename profiles.${ipv4TwinName(name)}`,
        ),
      );
    }
    if (p.bind !== "dual" && p.ipv4SipPort !== undefined) {
      problems.push(
        problem(
          `profiles.${name}.ipv4SipPort`,
          "only a dual profile has an IPv4 twin with its own SIP port",
          `remove profiles.${name}.ipv4SipPort (sipPort is the port on IPv4)`,
        ),
      );
    }
  }
  for (const family of ["ipv4", "ipv6"] as const) {
    const owner = new Map<number, Profile>();
    for (const p of model.profiles.filter((x) => (family === "ipv4" ? x.bind === "ipv4" : x.bind === "dual"))) {
      for (const port of new Set([p.sipPort, p.tlsPort, p.wssPort].filter((x): x is number => x !== undefined))) {
        const other = owner.get(port);
        if (!other) {
          owner.set(port, p);
          continue;
        }
        const twin = [p, other].find((x) => x.ipv4Of !== undefined && port === x.sipPort);
        problems.push(
          twin
            ? problem(
                `profiles.${twin.ipv4Of}.ipv4SipPort`,
                `profile ${twin.ipv4Of} is dual: its IPv4 twin would listen on ${family} port ${port}, which profile ${[p, other].find((x) => x !== twin)!.name} already uses`,
                `set profiles.${twin.ipv4Of}.ipv4SipPort to a free port, e.g. ${port + 20}`,
              )
            : problem(
                `profiles.${p.ipv4Of ?? p.name}`,
                `profiles ${other.ipv4Of ?? other.name} and ${p.ipv4Of ?? p.name} both listen on ${family} port ${port}`,
                "give each profile its own ports",
              ),
        );
      }
    }
  }
}

function checkRtp(model: StackModel, problems: Problem[]): void {
  const { start, end, concurrentCalls } = model.rtp;
  if (start >= end)
    problems.push(
      problem(
        "rtp",
        `rtp.start (${start}) must be below rtp.end (${end})`,
        "set a range such as start: 16384, end: 16484",
      ),
    );
  const ports = end - start + 1;
  const needed = concurrentCalls * RTP_PORTS_PER_CALL;
  if (start < end && ports < needed) {
    problems.push(
      problem(
        "rtp",
        `the RTP range ${start}-${end} has ${ports} ports, room for ${Math.floor(ports / RTP_PORTS_PER_CALL)} concurrent calls; rtp.concurrentCalls is ${concurrentCalls} and each call takes ${RTP_PORTS_PER_CALL} ports (an RTP and an RTCP port on each of its two legs), so ${needed} ports are needed: further calls fail with no media port`,
        `widen the range to at least ${needed} ports (e.g. end: ${start + needed - 1}), or lower rtp.concurrentCalls`,
      ),
    );
  }
  if (start < 1024)
    problems.push(
      problem(
        "rtp.start",
        `RTP ports below 1024 (${start}) are privileged`,
        "start the range at 1024 or above, e.g. 16384",
      ),
    );
  if (start % 2 !== 0)
    problems.push(
      problem(
        "rtp.start",
        `RTP uses even ports (RTCP takes the odd one above); ${start} is odd`,
        `start at ${start + 1}`,
      ),
    );
  const listeners = new Set(
    model.profiles.flatMap((p) => [p.sipPort, p.tlsPort, p.wssPort]).concat([ESL_PORT, CONFIG_API_PORT, METRICS_PORT]),
  );
  for (const port of listeners) {
    if (port !== undefined && port >= start && port <= end) {
      problems.push(
        problem(
          "rtp",
          `the RTP range ${start}-${end} contains port ${port}, used by a SIP listener, ESL or the config API (or its /metrics listener)`,
          "move the RTP range clear of signalling ports",
        ),
      );
    }
  }
  model.firewall.extraUdpRanges.forEach((r, i) => {
    if (r.start > r.end)
      problems.push(problem(`firewall.extraUdpRanges[${i}]`, `start ${r.start} is above end ${r.end}`, "swap them"));
    for (const p of model.profiles) {
      if (p.sipPort >= r.start && p.sipPort <= r.end) {
        problems.push(
          problem(
            `firewall.extraUdpRanges[${i}]`,
            `opens SIP port ${p.sipPort} to everyone`,
            "SIP is admitted per trunk only; move the range clear of it",
          ),
        );
      }
    }
  });
}

function checkAddressInRanges(
  trunk: Trunk,
  field: "proxy" | "outboundProxy",
  value: string,
  ranges: Cidr[],
  problems: Problem[],
): void {
  const key = `trunks.${trunk.name}.${field}`;
  const { host } = splitHostPort(value);
  const ip = parseIp(host);
  if (!ip) return; // A host name: its addresses are the provider's to change; nothing to check offline.
  if (ip.family !== trunk.family) {
    problems.push(
      problem(
        key,
        `${value} is ${ip.family} but the trunk's family is ${trunk.family}`,
        `use the provider's ${trunk.family} proxy${trunk.family === "ipv6" ? " (1&1 answers 503 to Hetzner IPv4)" : ""}`,
      ),
    );
  }
  if (!ranges.some((r) => cidrContains(r, ip.address))) {
    problems.push(
      problem(
        key,
        `${value} lies outside the ranges the firewall admits for ${trunk.name} (${ranges.map((r) => r.text).join(", ") || "none"}); its replies would be dropped`,
        `add the proxy's range to trunks.${trunk.name}.sourceRanges, or correct the address`,
      ),
    );
  }
}

function checkTrunk(
  trunk: Trunk,
  model: StackModel,
  config: StackConfig,
  ctx: BuildContext,
  problems: Problem[],
): void {
  const key = `trunks.${trunk.name}`;
  const raw = config.trunks[trunk.name];
  if (!NAME_PATTERN.test(trunk.name)) {
    problems.push(
      problem(
        key,
        `trunk name "${trunk.name}" is not a valid gateway name`,
        "use lower-case letters, digits and '-' (2-40 characters)",
      ),
    );
  }
  for (const need of PRESETS[trunk.provider].needs) {
    const value = raw[need.field];
    if (value === undefined || (Array.isArray(value) && value.length === 0)) {
      problems.push(
        problem(
          `${key}.${need.field}`,
          `the ${trunk.provider} preset needs ${need.field}: ${need.why}`,
          `set ${key}.${need.field}`,
        ),
      );
    }
  }

  const profile = model.profiles.find((p) => p.name === trunk.profile);
  if (trunk.profile && !profile) {
    problems.push(
      problem(
        `${key}.profile`,
        `profile "${trunk.profile}" is not defined`,
        `define profiles.${trunk.profile} or use one of: ${model.profiles.map((p) => p.name).join(", ")}`,
      ),
    );
  }
  if (profile && profile.mediaFamily !== trunk.family) {
    problems.push(
      problem(
        `${key}.profile`,
        `trunk ${trunk.name} is ${trunk.family} but profile ${profile.name}'s ext-rtp-ip is ${profile.mediaFamily}: calls would connect with silence both ways`,
        `put the trunk on a profile whose mediaFamily is ${trunk.family}, or correct ${key}.family`,
      ),
    );
  }

  const ranges = checkCidrList(`${key}.sourceRanges`, trunk.sourceRanges, problems);
  if (trunk.signaling.length === 0 && trunk.provider !== "generic") {
    problems.push(
      problem(
        `${key}.signaling`,
        "no signaling port is admitted for this trunk",
        "list at least one, e.g. [{port: 5060, protocol: udp}]",
      ),
    );
  }

  if (trunk.proxy) checkAddressInRanges(trunk, "proxy", trunk.proxy, ranges, problems);
  if (trunk.outboundProxy) {
    const raw = config.trunks[trunk.name].outboundProxy ?? trunk.outboundProxy;
    const { host } = splitHostPort(raw);
    if ((raw.startsWith("[") && !raw.includes("]")) || (isBracketed(host) && !parseIp(stripBrackets(host)))) {
      problems.push(
        problem(
          `${key}.outboundProxy`,
          `"${raw}" is not a valid bracketed IPv6 address`,
          "write it as [2001:db8::1] or [2001:db8::1]:5060",
        ),
      );
    } else {
      checkAddressInRanges(trunk, "outboundProxy", trunk.outboundProxy, ranges, problems);
    }
  }

  if (!trunk.register && !trunk.outboundProxy) {
    problems.push(
      problem(
        `${key}.outboundProxy`,
        "an IP-authenticated trunk needs a fixed outbound proxy: with DNS round-robin, INVITE and ACK can reach different servers (408 Request Timeout)",
        `set ${key}.outboundProxy to the provider's fixed signalling address`,
      ),
    );
  }

  if (trunk.realm && trunk.proxy) {
    const proxyHost = stripBrackets(splitHostPort(trunk.proxy).host).toLowerCase();
    const realm = trunk.realm.toLowerCase();
    if (realm !== proxyHost && proxyHost.endsWith(`.${realm}`)) {
      problems.push(
        problem(
          `${key}.realm`,
          `realm "${trunk.realm}" is a parent domain of the proxy host "${proxyHost}": the provider answers 401 with correct credentials`,
          `set ${key}.realm to "${proxyHost}"`,
        ),
      );
    } else if (trunk.provider === "1und1" && realm !== proxyHost) {
      problems.push(
        problem(
          `${key}.realm`,
          `1&1's realm is the proxy host; "${trunk.realm}" gets 401 Unauthorized`,
          `set ${key}.realm to "${proxyHost}"`,
        ),
      );
    }
  }

  if (trunk.register) {
    if (!trunk.username)
      problems.push(problem(`${key}.username`, "a REGISTER trunk needs a user name", `set ${key}.username`));
    if (ctx.secretPaths !== "unknown" && !ctx.secretPaths.has(`trunkPasswords.${trunk.name}`)) {
      problems.push(
        problem(
          `secrets.trunkPasswords.${trunk.name}`,
          `REGISTER trunk ${trunk.name} has no password`,
          `pulumi config set --secret --path 'secrets.trunkPasswords.${trunk.name}' <password>`,
        ),
      );
    }
    if (!raw.activeInStacks || raw.activeInStacks.length === 0) {
      problems.push(
        problem(
          `${key}.activeInStacks`,
          "a REGISTER trunk must name the stacks that may register it: a cloned stack would otherwise take over production's registration",
          `set ${key}.activeInStacks to e.g. ["${ctx.stack}"]`,
        ),
      );
    }
  } else if (raw.activeInStacks) {
    problems.push(
      problem(
        `${key}.activeInStacks`,
        "only REGISTER trunks are switched per stack; an IP-authenticated trunk follows the stack's own IPv4",
        `remove ${key}.activeInStacks`,
      ),
    );
  }

  if (trunk.callerId !== undefined && !E164.test(trunk.callerId)) {
    problems.push(
      problem(
        `${key}.callerId`,
        `"${trunk.callerId}" is not E.164`,
        `write it as + country code and number without spaces, e.g. ${e164Hint(trunk.callerId)}`,
      ),
    );
  }
}

function e164Hint(value: string): string {
  const digits = value.replace(/[^\d+]/g, "").replace(/^00/, "+");
  return E164.test(digits) ? digits : "+493455667290";
}

function checkGatewayNamesUnique(model: StackModel, problems: Problem[]): void {
  const seen = new Map<string, string>();
  for (const t of model.trunks) {
    const folded = t.name.toLowerCase();
    const other = seen.get(folded);
    if (other !== undefined) {
      problems.push(
        problem(
          `trunks.${t.name}`,
          `gateway name "${t.name}" clashes with "${other}": killgw would be ambiguous across profiles`,
          "give every trunk a distinct name",
        ),
      );
    }
    seen.set(folded, t.name);
  }
}

function checkNumbers(model: StackModel, problems: Problem[]): void {
  const seen = new Set<string>();
  model.numbers.forEach((n, i) => {
    const key = `numbers[${i}]`;
    if (!E164.test(n.number)) {
      problems.push(
        problem(
          `${key}.number`,
          `"${n.number}" is not E.164`,
          `write + country code and number without spaces, e.g. ${e164Hint(n.number)}`,
        ),
      );
    }
    if (seen.has(n.number))
      problems.push(problem(`${key}.number`, `${n.number} is listed twice`, "keep one entry per number"));
    seen.add(n.number);
    if (!model.trunks.some((t) => t.name === n.trunk)) {
      problems.push(
        problem(
          `${key}.trunk`,
          `trunk "${n.trunk}" is not defined`,
          `use one of: ${model.trunks.map((t) => t.name).join(", ")}`,
        ),
      );
    }
    if (!model.extensions.some((e) => e.id === n.destination)) {
      problems.push(
        problem(
          `${key}.destination`,
          `${n.number} is routed to "${n.destination}", which is not an extension`,
          `define extensions.${n.destination} or route to one of: ${model.extensions.map((e) => e.id).join(", ") || "(none defined)"}`,
        ),
      );
    }
  });
}

function checkExtensions(model: StackModel, problems: Problem[]): void {
  for (const e of model.extensions) {
    if (!/^[0-9]{2,8}$/.test(e.id))
      problems.push(
        problem(
          `extensions.${e.id}`,
          `extension id "${e.id}" is not 2-8 digits`,
          "use a numeric extension such as 100",
        ),
      );
    if (e.outboundCallerId !== undefined && !E164.test(e.outboundCallerId)) {
      problems.push(
        problem(
          `extensions.${e.id}.outboundCallerId`,
          `"${e.outboundCallerId}" is not E.164`,
          `write e.g. ${e164Hint(e.outboundCallerId)}`,
        ),
      );
    } else if (e.outboundCallerId !== undefined && !trunkOwning(model, e.outboundCallerId)) {
      // Calls leave through the trunk owning the caller ID; a number no trunk owns has no way out.
      const owned = [
        ...model.numbers.map((n) => n.number),
        ...model.trunks.flatMap((t) => (t.callerId ? [t.callerId] : [])),
      ];
      problems.push(
        problem(
          `extensions.${e.id}.outboundCallerId`,
          `${e.outboundCallerId} belongs to no trunk: it is neither in numbers[] nor any trunk's callerId, so calls from ${e.id} have no trunk to leave by`,
          `use a number a trunk owns (${[...new Set(owned)].sort().join(", ") || "none configured"}), or add it to numbers[] with its trunk`,
        ),
      );
    }
    if (model.freeswitch.emergencyNumbers.includes(e.id)) {
      problems.push(
        problem(
          `extensions.${e.id}`,
          `extension ${e.id} is also an emergency number: dialling it would reach the extension, not the emergency service`,
          "renumber the extension",
        ),
      );
    }
  }
}

function checkFreeswitch(model: StackModel, ctx: BuildContext, problems: Problem[]): void {
  const { image, outboundTrunk } = model.freeswitch;
  // A tag can be moved to other content; only a digest (or an image ID) names one image.
  if (image !== undefined && !isPinnedImage(image)) {
    problems.push(
      problem(
        "freeswitch.image",
        `"${image}" is not pinned by digest: a redeploy could pull a different FreeSWITCH`,
        "pin it as name@sha256:<digest> (or a local image ID sha256:<id>), or remove freeswitch.image to install FreeSWITCH's packages",
      ),
    );
  }
  if (image === undefined && ctx.secretPaths !== "unknown" && !ctx.secretPaths.has("signalwireToken")) {
    problems.push(
      problem(
        "secrets.signalwireToken",
        "FreeSWITCH's Debian packages (used when freeswitch.image is absent) are served only with a SignalWire personal access token, and none is set",
        "create one in your SignalWire space (Personal Access Tokens) and pulumi config set --secret --path 'telephony:secrets.signalwireToken' <token>; or set telephony:freeswitch.image to an image pinned by digest",
      ),
    );
  }
  if (outboundTrunk && !model.trunks.some((t) => t.name === outboundTrunk)) {
    problems.push(
      problem(
        "freeswitch.outboundTrunk",
        `trunk "${outboundTrunk}" is not defined`,
        `use one of: ${model.trunks.map((t) => t.name).join(", ")}`,
      ),
    );
  }
}

function checkDns(model: StackModel, problems: Problem[]): void {
  if (!model.dns) return;
  const zone = model.dns.zone.toLowerCase();
  const hostname = model.host.hostname?.toLowerCase();
  if (!hostname) {
    problems.push(
      problem(
        "dns.zone",
        "DNS records need a host name",
        "set host.hostname to a name inside the zone, e.g. sip." + zone,
      ),
    );
  } else if (hostname !== zone && !hostname.endsWith(`.${zone}`)) {
    problems.push(
      problem(
        "host.hostname",
        `${hostname} is not inside the DNS zone ${zone}`,
        `use a name ending in .${zone}, or correct dns.zone`,
      ),
    );
  }
}

function checkTls(model: StackModel, ctx: BuildContext, problems: Problem[]): void {
  const { tls } = model;
  if (tls.mode === "off") {
    // A listener without a certificate does not work; an open port for it is attack surface.
    for (const p of model.profiles.filter((x) => x.ipv4Of === undefined)) {
      for (const field of ["tlsPort", "wssPort"] as const) {
        if (p[field] !== undefined) {
          problems.push(
            problem(
              `profiles.${p.name}.${field}`,
              `TLS is off (tls.mode) but profile ${p.name} listens on ${p[field]} for ${field === "tlsPort" ? "SIP over TLS" : "WebRTC (WSS)"} and the firewall admits it`,
              `remove profiles.${p.name}.${field}, or set tls.mode to acme or self-signed`,
            ),
          );
        }
      }
    }
    const tlsPorts = new Set([SIP_TLS_PORT, ...model.profiles.flatMap((p) => (p.tlsPort ? [p.tlsPort] : []))]);
    for (const t of model.trunks) {
      t.signaling.forEach((s, i) => {
        if (s.protocol === "tcp" && tlsPorts.has(s.port)) {
          problems.push(
            problem(
              `trunks.${t.name}.signaling[${i}]`,
              `TLS is off (tls.mode) but ${s.port}/tcp (SIP over TLS) is admitted from ${t.name}`,
              `drop that entry from trunks.${t.name}.signaling, or enable TLS`,
            ),
          );
        }
      });
    }
    return;
  }
  if (tls.mode !== "acme") return;
  if (!model.host.hostname)
    problems.push(
      problem(
        "tls.mode",
        "ACME certifies a host name, and host.hostname is not set",
        "set host.hostname, or use tls.mode self-signed",
      ),
    );
  if (!tls.email)
    problems.push(problem("tls.email", "ACME needs an account e-mail for expiry notices", "set tls.email"));
  if (tls.challenge === "dns-01" && !model.dns)
    problems.push(
      problem("tls.challenge", "dns-01 needs the stack's DNS zone", "set dns.zone, or use tls.challenge http-01"),
    );
  // Both hosts of a pair need the certificate, and an http-01 challenge for the name reaches only
  // the host holding the floating IPv4: the other host's first issue (and its renewals) would fail.
  if (model.standby && tls.challenge !== "dns-01")
    problems.push(
      problem(
        "tls.challenge",
        "with standby both hosts get their own certificate, and an http-01 challenge reaches only the host that holds the floating IPv4",
        "use tls.challenge dns-01 (with dns.zone and secrets.dnsToken), or tls.mode self-signed",
      ),
    );
}

/**
 * The DNS zone is written with its own token, of a Hetzner project that holds only the zone: the
 * host keeps that token for ACME dns-01, and root on the host must not reach the servers, IPs and
 * firewall that the stack's own hcloud:token controls.
 */
function checkDnsToken(model: StackModel, ctx: BuildContext, problems: Problem[]): void {
  if (ctx.secretPaths === "unknown") return;
  if (model.dns && !ctx.secretPaths.has("dnsToken")) {
    problems.push(
      problem(
        "secrets.dnsToken",
        `dns.zone ${model.dns.zone} is written with its own Hetzner API token: create one in a project that holds only the zone`,
        "pulumi config set --secret --path 'telephony:secrets.dnsToken' <token>",
      ),
    );
  }
}

/** The same address, however it is written (2001:db8::1 and 2001:DB8:0::1). */
function sameIp(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const x = parseIp(a);
  const y = parseIp(b);
  return !!x && !!y && x.family === y.family && x.address.toNormalizedString() === y.address.toNormalizedString();
}

/**
 * The standby pair (sip/standby.ts): its private network, where its second machine and floating IPs
 * come from (configured with provider existing, created by the stack with provider hetzner), and
 * the token its hosts move the floating IPs with.
 */
function checkStandby(model: StackModel, ctx: BuildContext, problems: Problem[]): void {
  const standby = model.standby;
  if (!standby) return;
  const network = parseCidr(standby.network);
  if (!network || network.family !== "ipv4" || !isNetworkAligned(network) || network.prefix > 29) {
    problems.push(
      problem(
        "standby.network",
        `"${standby.network}" is not an IPv4 network with room for the hosts' .2 and .3`,
        "write a private IPv4 network address with a prefix of /29 or shorter, e.g. 10.77.0.0/24",
      ),
    );
  } else {
    for (const trunk of model.trunks) {
      for (const range of trunk.sourceRanges) {
        const cidr = parseCidr(range);
        if (cidr?.family !== "ipv4") continue;
        if (cidrContains(network, cidr.address) || cidrContains(cidr, network.address))
          problems.push(
            problem(
              "standby.network",
              `${standby.network} overlaps ${range}, which trunk ${trunk.name} sends SIP from: that traffic would be routed to the private network`,
              "choose a private network no trunk uses, e.g. 10.77.0.0/24",
            ),
          );
      }
    }
  }
  if (ctx.secretPaths !== "unknown" && !ctx.secretPaths.has("hetznerFloatingIpToken"))
    problems.push(
      problem(
        "secrets.hetznerFloatingIpToken",
        "standby moves the floating IPs from the hosts themselves, with a Hetzner Cloud API token of the project that holds them, and none is set",
        "create a token (Read & Write) in the Hetzner Cloud project of the floating IPs and pulumi config set --secret --path 'telephony:secrets.hetznerFloatingIpToken' <token>",
      ),
    );
  if (model.host.provider !== "existing") {
    for (const key of ["existing", "floatingIps", "serverIds"] as const)
      if (standby[key] !== undefined)
        problems.push(
          problem(
            `standby.${key}`,
            "is read only with host.provider existing: with provider hetzner the stack creates the second server, the floating IPs and knows their IDs",
            `remove standby.${key}`,
          ),
        );
    return;
  }
  const fixes = {
    existing:
      "describe the second machine as host.existing describes the first: pulumi config set --path telephony:standby.existing.ipv4 <address> (and ipv6)",
    floatingIps:
      "create a floating IPv4 and a floating IPv6 in the Hetzner Cloud project of the machines and set standby.floatingIps.ipv4, ipv6 (the /64), ipv4Id and ipv6Id",
    serverIds:
      "set standby.serverIds.primary (the server of host.existing) and standby.serverIds.standby (of standby.existing): the IDs the floating IPs are assigned to",
  };
  for (const key of ["existing", "floatingIps", "serverIds"] as const)
    if (standby[key] === undefined)
      problems.push(problem(`standby.${key}`, "standby with host.provider existing needs it", fixes[key]));
  const primary = model.host.existing;
  const second = standby.existing;
  if (second) {
    checkAddressPair("standby.existing", second, problems);
    if (primary && (sameIp(second.ipv4, primary.ipv4) || sameIp(second.ipv6, primary.ipv6)))
      problems.push(
        problem(
          "standby.existing",
          "describes the same machine as host.existing: the pair needs two machines",
          "set standby.existing to the second machine's own addresses",
        ),
      );
  }
  const ips = standby.floatingIps;
  if (ips) {
    if (parseIp(ips.ipv4)?.family !== "ipv4" || isBracketed(ips.ipv4))
      problems.push(
        problem(
          "standby.floatingIps.ipv4",
          `"${ips.ipv4}" is not an IPv4 address`,
          "write the floating IPv4, e.g. 203.0.113.20",
        ),
      );
    const v6 = parseCidr(ips.ipv6);
    const v6Ok = v6?.family === "ipv6" && v6.prefix === 64 && isNetworkAligned(v6);
    if (!v6Ok)
      problems.push(
        problem(
          "standby.floatingIps.ipv6",
          `"${ips.ipv6}" is not an IPv6 /64 network`,
          "write the floating IPv6 network as Hetzner shows it, e.g. 2001:db8:f100::/64 (the hosts answer on its ::1)",
        ),
      );
    const answering = { ipv4: ips.ipv4, ipv6: v6Ok ? ipv6HostAddress(ips.ipv6) : undefined };
    const machines = [
      ["host.existing", primary],
      ["standby.existing", second],
    ] as const;
    for (const family of ["ipv4", "ipv6"] as const)
      for (const [key, machine] of machines)
        if (machine && sameIp(answering[family], machine[family]))
          problems.push(
            problem(
              `standby.floatingIps.${family}`,
              `${answering[family]} is ${key}.${family}, a machine's own (primary) address: it cannot move to the other machine`,
              `set standby.floatingIps.${family} to a Hetzner floating IP${family === "ipv6" ? " network (/64)" : ""}, not the machine's own address`,
            ),
          );
  }
}

/**
 * trunks.<name>.whitelistedIpv4: the address an IP-authenticating provider has on file must be the
 * one this stack sends SIP from, or every call through the trunk is refused. That is the floating
 * IPv4 with standby, host.existing.ipv4 for one machine you bring; a Hetzner server's own address is
 * known only once it is created, so it is not checked.
 */
function checkWhitelistedIpv4(model: StackModel, problems: Problem[]): void {
  const source = model.standby ? model.standby.floatingIps?.ipv4 : model.host.existing?.ipv4;
  const own = [
    ["the primary host (host.existing)", model.host.existing?.ipv4],
    ["the standby host (standby.existing)", model.standby?.existing?.ipv4],
  ] as const;
  for (const trunk of model.trunks) {
    const listed = trunk.whitelistedIpv4;
    if (listed === undefined) continue;
    const key = `trunks.${trunk.name}.whitelistedIpv4`;
    if (trunk.register) {
      problems.push(
        problem(
          key,
          `trunk ${trunk.name} registers with a password: a whitelisted address is for IP-authenticated trunks only`,
          `remove ${key}`,
        ),
      );
      continue;
    }
    if (parseIp(listed)?.family !== "ipv4") {
      problems.push(
        problem(key, `"${listed}" is not an IPv4 address`, "write the dotted quad the provider has on file"),
      );
      continue;
    }
    if (source === undefined || sameIp(listed, source)) continue;
    const host = model.standby ? own.find(([, ip]) => sameIp(listed, ip)) : undefined;
    problems.push(
      problem(
        key,
        host
          ? `${listed} is the primary IPv4 of ${host[0]}; with standby SIP leaves from the floating IPv4 ${source}, which moves between the hosts`
          : `${listed} is not the address this stack sends SIP from (${source}${model.standby ? ", the floating IPv4" : ", host.existing.ipv4"}): ${trunk.name} would refuse every call`,
        `whitelist the ${model.standby ? "floating " : ""}IPv4 ${source} instead: ask the provider to change it, then set ${key} to ${source}`,
      ),
    );
  }
}

export function runChecks(model: StackModel, config: StackConfig, ctx: BuildContext): Problem[] {
  const problems: Problem[] = [];
  checkHost(model, ctx, problems);
  checkExistingHost(model, ctx, problems);
  checkProfiles(model, config, problems);
  checkRtp(model, problems);
  checkGatewayNamesUnique(model, problems);
  for (const trunk of model.trunks) checkTrunk(trunk, model, config, ctx, problems);
  checkNumbers(model, problems);
  checkExtensions(model, problems);
  checkFreeswitch(model, ctx, problems);
  checkDns(model, problems);
  checkTls(model, ctx, problems);
  checkDnsToken(model, ctx, problems);
  checkStandby(model, ctx, problems);
  checkWhitelistedIpv4(model, problems);
  problems.push(...checkFirewallLimits(inboundRules(model)));
  return problems;
}
