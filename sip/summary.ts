/** The readable summary `npm start` prints: trunks, firewall, files and what each file's change disrupts. */
import { formatPorts, inboundRules } from "./firewall";
import { FREESWITCH_BASE_IMAGE, FREESWITCH_VERSION, freeswitchImageName } from "./freeswitchImage";
import type { StackModel } from "./model";
import { profileAddresses } from "./render/profile";
import type { HostAddresses, RenderedFile } from "./renderedFile";
import { drainNote } from "./drain";
import { disruption, reloadClassName } from "./reload";
import { tlsProfiles, tlsReloadClass } from "./render/tls";
import { outboundRoutes } from "./routing";
import { STANDBY_HOST_KEYS, standbyPlan, type StandbyHostKey } from "./standby";

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return (
    rows
      .map(
        (r) =>
          "  " +
          r
            .map((c, i) => c.padEnd(widths[i]))
            .join("  ")
            .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

export function summarize(
  model: StackModel,
  addresses: HostAddresses,
  files: readonly RenderedFile[],
  opts: {
    addressSource: string;
    outDir: string;
    /** Documents the config API serves (rendered offline by bin/servedDocuments.ts), paths relative to outDir. */
    served?: readonly { readonly path: string; readonly profile?: string; readonly gateways?: readonly string[] }[];
    /**
     * standby: `files` are the primary's bundle, `addresses` the floating ones; perHostPaths are
     * the files that differ between the hosts (written under STANDBY_HOSTS_DIR/<host>/).
     */
    standby?: { readonly perHostPaths: readonly string[] };
  },
): string {
  const out: string[] = [];
  out.push(`Stack ${model.stack} (${model.environment})\n`);
  out.push(`Addresses: IPv4 ${addresses.ipv4}, IPv6 ${addresses.ipv6}\n  (${opts.addressSource})\n`);
  if (opts.standby) out.push(standbySection(model, addresses, opts.outDir, opts.standby.perHostPaths));
  const ipAuth = model.trunks.filter((t) => !t.register);
  if (ipAuth.length)
    out.push(`  IP-auth providers must whitelist ${addresses.ipv4}: ${ipAuth.map((t) => t.name).join(", ")}\n`);

  out.push(
    model.freeswitch.image === undefined
      ? `FreeSWITCH: ${FREESWITCH_VERSION} from SignalWire's Debian packages (secrets.signalwireToken), built on the host as ${freeswitchImageName()} FROM ${FREESWITCH_BASE_IMAGE}\n`
      : `FreeSWITCH: image ${model.freeswitch.image} (freeswitch.image)\n`,
  );

  const { tls } = model;
  const certificateReload = tlsReloadClass(model);
  out.push(
    tls.mode === "acme"
      ? `TLS: ACME (${tls.challenge}) certificate for ${model.host.hostname}, renewed on the host by Debian's lego\n`
      : tls.mode === "self-signed"
        ? "TLS: SELF-SIGNED certificate: browsers refuse WSS to it; set host.hostname for ACME\n"
        : "TLS: off (no SIP-TLS or WSS listener)\n",
  );
  if (tls.mode !== "off" && tlsProfiles(model).length > 0)
    out.push(
      `  a new certificate (${tls.mode === "acme" ? "a renewal" : "a change"}): ${disruption(certificateReload)}\n`,
    );
  if (model.dns)
    out.push(
      `DNS: zone ${model.dns.zone}: A/AAAA for ${model.host.hostname}, SRV _sip._udp, _sip._tcp, _sips._tcp (no NAPTR at Hetzner)\n`,
    );
  out.push(
    `Disruptive restarts (FreeSWITCH container, Sofia profiles${certificateReload.load === "reloadcert" ? "" : ", TLS profiles on a FreeSWITCH without reloadcert"}): each ${drainNote(model.maintenance.drainSeconds)} first (maintenance.drainSeconds), then restarts; ` +
      "new calls and registrations are taken meanwhile, calls still up at the bound drop\n",
  );
  out.push(
    `Verification after each update: ${model.verify.enabled ? `on (profiles RUNNING, REGISTER trunks REGED, IP-auth trunks answering OPTIONS pings, within ${model.verify.timeoutSeconds} s)` : "off"}\n`,
  );
  if (model.standby && model.verify.enabled)
    out.push(
      "  with standby: on the active host as above; on the other host profiles RUNNING and no trunk's gateway up\n",
    );

  out.push("\nProfiles:\n");
  out.push(
    table([
      ["profile", "sip-ip", "port", "ext-sip-ip / ext-rtp-ip", "tls", "wss"],
      ...model.profiles.map((p) => {
        const ip = profileAddresses(p, addresses);
        return [
          p.name,
          ip.sipIp,
          String(p.sipPort),
          ip.extIp,
          p.tlsPort ? String(p.tlsPort) : "-",
          p.wssPort ? String(p.wssPort) : "-",
        ];
      }),
    ]),
  );

  out.push("\nTrunks:\n");
  out.push(
    table([
      ["trunk", "provider", "profile", "family", "auth", "proxy", "outbound proxy", "state here"],
      ...model.trunks.map((t) => [
        t.name,
        t.provider,
        t.profile,
        t.family,
        t.register ? "REGISTER" : `IP (ping ${t.pingSeconds} s)`,
        t.proxy,
        t.outboundProxy ?? "-",
        t.active ? "active" : `off: registers only in ${t.activeInStacks?.join(", ")}`,
      ]),
    ]),
  );

  const gatewayDocs = (opts.served ?? []).filter((d) => d.profile !== undefined);
  if (gatewayDocs.length) {
    out.push(`\nGateway documents the config API serves per profile (in ${opts.outDir}; passwords masked):\n`);
    out.push(
      table([
        ["profile", "gateways", "document"],
        ...gatewayDocs.map((d) => [d.profile!, d.gateways?.join(", ") || "(none)", d.path]),
      ]),
    );
    const users = (opts.served ?? []).length - gatewayDocs.length;
    if (users)
      out.push(`  and ${users} extension user document${users === 1 ? "" : "s"} in ${opts.outDir}/config-api/users/\n`);
  }

  if (model.numbers.length) {
    out.push("\nNumbers (everything else is refused in the public context):\n");
    out.push(
      table([
        ["number", "use", "trunk", "to extension"],
        ...model.numbers.map((n) => [n.number, n.use, n.trunk, n.destination]),
      ]),
    );
  }

  if (model.extensions.length) {
    const routes = outboundRoutes(model);
    const fallback = routes.find((r) => r.fallback);
    out.push(`\nOutside calls (E.164 and ${model.freeswitch.emergencyNumbers.join(", ")}):\n`);
    out.push(
      table([
        ["extension", "leaves through", "presenting"],
        ...model.extensions.map((e) => {
          const route = routes.find((r) => !r.fallback && r.callerId === e.outboundCallerId) ?? fallback;
          return [e.id, route?.trunk.name ?? "- (no route: refused)", route?.callerId ?? "-"];
        }),
      ]),
    );
  }

  out.push("\nFirewall (Hetzner Cloud firewall and UFW; SIP ranges also in ACL sip-gateways):\n");
  out.push(
    table([
      ["proto", "port", "from", "why"],
      ...inboundRules(model).map((r) => [
        r.protocol,
        r.ports ? formatPorts(r.ports) : "-",
        r.sourceRanges.join(", "),
        r.description,
      ]),
    ]),
  );

  out.push(`\nFiles written to ${opts.outDir} (paths as on the host; secrets masked):\n`);
  out.push(
    table([
      ["path", "mode", "on change"],
      ...files.map((f) => [
        opts.standby?.perHostPaths.includes(f.path) ? `${f.path} (per host)` : f.path,
        f.mode,
        `${reloadClassName(f.reload)}: ${disruption(f.reload)}`,
      ]),
    ]),
  );
  return out.join("");
}

/** Where `npm start` writes a standby pair's per-host files: out/<stack>/hosts/<primary|standby>/<path on the host>. */
export const STANDBY_HOSTS_DIR = "hosts";

/** The pair: its hosts, the floating addresses, the private network and the rollout order. */
function standbySection(
  model: StackModel,
  floating: HostAddresses,
  outDir: string,
  perHostPaths: readonly string[],
): string {
  const plan = standbyPlan(model)!;
  const standby = model.standby!;
  const machines: Record<StandbyHostKey, string> = model.host.existing
    ? {
        primary: `host.existing (${model.host.existing.ipv4})`,
        standby: standby.existing ? `standby.existing (${standby.existing.ipv4})` : "standby.existing (not set)",
      }
    : { primary: "a Hetzner server the stack creates", standby: "a second Hetzner server the stack creates" };
  const ids = standby.serverIds;
  const lines = [
    `Standby pair (standby.enabled): two hosts serve this configuration; keepalived (VRRP router ${plan.virtualRouterId}, unicast over ${plan.network}) gives the floating addresses to the host that is healthy\n`,
    table([
      ["host", "at the first deploy", "machine", "private IPv4", "server ID"],
      ...STANDBY_HOST_KEYS.map((key) => [
        key,
        key === plan.firstActive ? "active (holds the floating IPs)" : "standby",
        machines[key],
        plan.privateIpv4[key],
        ids ? String(ids[key]) : "(set at deploy)",
      ]),
    ]),
    `  floating IPv4 ${floating.ipv4}, IPv6 ${floating.ipv6}${standby.floatingIps ? ` (of ${standby.floatingIps.ipv6})` : " (preview addresses: the stack creates the floating IPs)"}: both hosts' profiles bind them; after a takeover the other host keeps them (no failback)\n`,
    `  a restarting change reaches ${plan.rolloutOrder.join(", then ")}, each after the one before passed its verification\n`,
    `  files that differ between the hosts are in ${outDir}/${STANDBY_HOSTS_DIR}/<${STANDBY_HOST_KEYS.join("|")}>/: ${perHostPaths.join(", ")}\n`,
  ];
  return lines.join("");
}
