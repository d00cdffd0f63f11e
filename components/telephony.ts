/**
 * The stack's composition, in order: the host with its addresses (a Hetzner server on primary IPs
 * behind a cloud firewall, or a machine the user brings: host.provider) — with standby, two hosts
 * and the floating IPs they share —, DNS, generated secrets, and the rendered files from the real
 * addresses (with standby: the floating ones, one set of files per host). index.ts runs it and exports telephonyOutputs();
 * tests run the same function under Pulumi's mocks and can see what is not a stack output
 * (the rendered files, the host's SSH connection).
 */
import * as pulumi from "@pulumi/pulumi";
import { sipDomain, type HostSecrets } from "../sip/bundle";
import { dnsTokenOf, type LoadedStack } from "../sip/config";
import { inboundRules } from "../sip/firewall";
import { claimedHostname, type StackModel } from "../sip/model";
import { standbyPlan, type StandbyHostFacts, type StandbyHostKey, type StandbyPlan } from "../sip/standby";
import { Addresses, type PublicAddresses } from "./addresses";
import type { HostAddresses } from "../sip/renderedFile";
import { Dns } from "./dns";
import { HOST_ROOT } from "../sip/hostLayout";
import { bundleLayout, deployFiles, type DeployFile } from "./files";
import { Firewall } from "./firewall";
import { ExistingHost } from "./existingHost";
import { Host, type DeployTarget } from "./host";
import type { StackNaming } from "./naming";
import { secretTrunkPasswords } from "./pulumiConfig";
import { GeneratedSecrets } from "./secrets";
import { configuredFloatingAddresses, FloatingIps, StandbyInfrastructure, type FloatingAddresses } from "./standby";
import { SelfSignedCertificate } from "./tls";

/** One machine the deploy serves, with the files rendered for it. */
export interface ServedHost {
  /** Which host of the standby pair; absent without standby. */
  readonly key?: StandbyHostKey;
  readonly target: DeployTarget;
  /** Every file the deploy step pushes to this host (see Telephony.files). */
  readonly files: DeployFile[];
  /**
   * Prefix of this host's deploy resources' names: "" for the primary, so its resources keep the
   * names they have without standby; "standby-" for the standby.
   */
  readonly resourcePrefix: string;
}

/** standby only: the pair, its floating addresses and Hetzner IDs. */
export interface StandbyPair {
  readonly plan: StandbyPlan;
  readonly floating: FloatingAddresses;
  readonly hosts: Readonly<Record<StandbyHostKey, ServedHost>>;
  /** Each host's Hetzner server ID (what its notify script assigns the floating IPs to). */
  readonly hetznerServerIds: Readonly<Record<StandbyHostKey, pulumi.Output<string>>>;
}

export interface Telephony {
  readonly model: StackModel;
  readonly naming: StackNaming;
  /** The addresses carriers see: the host's, or with standby the floating ones. */
  readonly addresses: PublicAddresses;
  /** host.provider hetzner only (a machine you bring has UFW as its only firewall). */
  readonly firewall?: Firewall;
  /** The host (with standby: the primary). */
  readonly host: DeployTarget;
  /** standby only: the second host and what the pair shares. */
  readonly standby?: StandbyPair;
  readonly dns?: Dns;
  readonly secrets: GeneratedSecrets;
  /** tls.mode self-signed only. */
  readonly selfSignedCertificate?: SelfSignedCertificate;
  /** REGISTER trunks' passwords from telephony:secrets, each a Pulumi secret. */
  readonly trunkPasswords: Record<string, pulumi.Output<string>>;
  /** The SignalWire token that installs FreeSWITCH's packages (a Pulumi secret), when set. */
  readonly signalwireToken?: pulumi.Output<string>;
  /**
   * Every file the deploy step pushes (over host.connection, after host.ready), each content an
   * Output that is secret exactly when the file holds a secret, so previews can diff the rest.
   * With standby: the primary's files (each host's are in standby.hosts).
   */
  readonly files: DeployFile[];
  readonly sipDomain: pulumi.Output<string>;
}

/** host.provider hetzner: primary IPs, the cloud firewall, the server on both. */
function hetznerHost(model: StackModel, naming: StackNaming) {
  const plan = standbyPlan(model);
  const addresses = new Addresses("addresses", {
    naming,
    location: model.host.location,
    protect: model.production,
    // Reverse DNS names the host only where this stack owns the name (a copied config does not);
    // with standby, the floating addresses carry it instead.
    hostname: plan ? undefined : claimedHostname(model),
    existingIds: model.host.existingPrimaryIpIds,
  });
  const firewall = new Firewall("firewall", { naming, rules: inboundRules(model) });
  const infrastructure = plan
    ? new StandbyInfrastructure("standby", { naming, location: model.host.location, network: plan.network })
    : undefined;
  const pairArgs = (key: StandbyHostKey) =>
    plan && infrastructure
      ? {
          standby: {
            key,
            placementGroupId: infrastructure.placementGroupId,
            subnetId: infrastructure.subnet.id,
            privateIpv4: plan.privateIpv4[key],
          },
        }
      : {};
  const hostArgs = {
    naming,
    environment: model.environment,
    location: model.host.location,
    serverType: model.host.serverType,
    image: model.host.image,
    firewallId: firewall.firewallId,
    adminSshPublicKeys: model.host.sshPublicKeys,
  };
  const host = new Host("host", {
    ...hostArgs,
    ipv4Id: addresses.ipv4Id,
    ipv6Id: addresses.ipv6Id,
    sshAddress: addresses.ipv4Address,
    ...pairArgs("primary"),
  });
  if (!plan) return { addresses, firewall, host, standby: undefined };

  // The standby keeps Hetzner's own public addresses for SSH, metrics and its outbound traffic:
  // nobody whitelists them (carriers see the floating ones), so they need not outlive the server.
  const standbyHost = new Host("standby-host", { ...hostArgs, nameSuffix: "standby", ...pairArgs("standby") });
  const floatingIps = new FloatingIps("floating-ips", {
    naming,
    location: model.host.location,
    firstServerId: host.serverId,
    protect: model.production,
    hostname: claimedHostname(model),
  });
  return {
    addresses: floatingIps,
    firewall,
    host,
    standby: {
      plan,
      floating: floatingIps,
      targets: { primary: host, standby: standbyHost },
      hetznerServerIds: { primary: host.serverId, standby: standbyHost.serverId },
    },
  };
}

/** host.provider existing: the machine at host.existing, its addresses from config; nothing at Hetzner. */
function existingHost(loaded: LoadedStack) {
  const { model, secrets } = loaded;
  if (!model.host.existing) throw new Error("host.existing is checked to be set for host.provider existing");
  const plan = standbyPlan(model);
  const machineHost = (name: string, machine: NonNullable<StackModel["host"]["existing"]>) =>
    new ExistingHost(name, {
      machine,
      // Checked to be set wherever secrets can be read; offline (no secrets) nothing is deployed.
      privateKey: pulumi.secret(secrets?.sshPrivateKey ?? ""),
      adminSshPublicKeys: model.host.sshPublicKeys,
      filesOutsideRoot: bundleLayout(model)
        .map((f) => f.path)
        .filter((path) => !path.startsWith(`${HOST_ROOT}/`)),
    });
  const host = machineHost("host", model.host.existing);
  if (!plan) return { addresses: host, firewall: undefined, host, standby: undefined };

  const standby = model.standby;
  if (!standby?.existing || !standby.floatingIps || !standby.serverIds)
    throw new Error(
      "standby.existing, standby.floatingIps and standby.serverIds are checked to be set for host.provider existing with standby",
    );
  const standbyHost = machineHost("standby-host", standby.existing);
  const floating = configuredFloatingAddresses(standby.floatingIps);
  return {
    addresses: floating,
    firewall: undefined,
    host,
    standby: {
      plan,
      floating,
      targets: { primary: host, standby: standbyHost },
      hetznerServerIds: {
        primary: pulumi.output(String(standby.serverIds.primary)),
        standby: pulumi.output(String(standby.serverIds.standby)),
      },
    },
  };
}

export function buildTelephony(loaded: LoadedStack, naming: StackNaming): Telephony {
  const { model } = loaded;
  // Names only one stack may hold (DNS, reverse DNS, certificate): set only where this stack owns them.
  const hostname = claimedHostname(model);
  const { addresses, firewall, host, standby } =
    model.host.provider === "existing" ? existingHost(loaded) : hetznerHost(model, naming);
  const dns =
    model.dns && hostname
      ? new Dns("dns", {
          naming,
          zone: model.dns.zone,
          ttl: model.dns.ttl,
          hostname,
          sipDomain: model.freeswitch.domain ?? hostname,
          profiles: model.profiles,
          addresses: addresses.hostAddresses,
          token: dnsTokenOf(loaded.secrets),
        })
      : undefined;
  const secrets = new GeneratedSecrets("secrets", { fernetKeyGeneration: model.rotation.apiStoreEncryption });
  const selfSignedCertificate =
    model.tls.mode === "self-signed"
      ? new SelfSignedCertificate("tls", {
          commonName: addresses.hostAddresses.apply((a) => sipDomain(model, a)),
          addresses: addresses.hostAddresses,
          dnsNames: hostname ? [hostname] : [],
        })
      : undefined;
  // Everything the host needs that is secret: generated values, the certificate, the DNS zone's
  // token for ACME dns-01 (never the stack's hcloud:token).
  const acmeDnsToken = model.tls.challenge === "dns-01" ? dnsTokenOf(loaded.secrets) : undefined;
  const alertsWebhookToken = model.alerts ? loaded.secrets?.alertsWebhookToken : undefined;
  // standby only: the token the hosts' notify script moves the floating IPs with.
  const floatingIpToken = standby ? loaded.secrets?.hetznerFloatingIpToken : undefined;
  const hostSecrets: pulumi.Output<HostSecrets> = pulumi.secret(
    pulumi
      .all([
        secrets.values,
        selfSignedCertificate?.pems,
        acmeDnsToken === undefined ? undefined : pulumi.secret(acmeDnsToken),
        alertsWebhookToken === undefined ? undefined : pulumi.secret(alertsWebhookToken),
        floatingIpToken === undefined ? undefined : pulumi.secret(floatingIpToken),
      ])
      .apply(([generated, selfSigned, token, alertsToken, hetznerFloatingIpToken]) => ({
        ...generated,
        ...(selfSigned ? { selfSignedCertificate: selfSigned } : {}),
        ...(token !== undefined ? { acmeDnsToken: token } : {}),
        ...(alertsToken !== undefined ? { alertsWebhookToken: alertsToken } : {}),
        ...(hetznerFloatingIpToken !== undefined ? { hetznerFloatingIpToken } : {}),
      })),
  );
  const pair = standby ? servedPair(model, addresses.hostAddresses, hostSecrets, standby) : undefined;
  return {
    model,
    naming,
    addresses,
    firewall,
    host,
    dns,
    secrets,
    selfSignedCertificate,
    trunkPasswords: secretTrunkPasswords(loaded.secrets),
    signalwireToken:
      loaded.secrets?.signalwireToken === undefined ? undefined : pulumi.secret(loaded.secrets.signalwireToken),
    standby: pair,
    files: pair ? pair.hosts.primary.files : deployFiles(model, addresses.hostAddresses, hostSecrets),
    sipDomain: addresses.hostAddresses.apply((a) => sipDomain(model, a)),
  };
}

/** Each host of the pair with its own files: the shared bundle on the floating addresses plus its facts. */
function servedPair(
  model: StackModel,
  floatingAddresses: pulumi.Output<HostAddresses>,
  hostSecrets: pulumi.Output<HostSecrets>,
  pair: Omit<StandbyPair, "hosts"> & { readonly targets: Record<StandbyHostKey, DeployTarget> },
): StandbyPair {
  const served = (key: StandbyHostKey): ServedHost => {
    const facts: pulumi.Output<StandbyHostFacts> = pulumi
      .all([pair.hetznerServerIds[key], pair.floating.ipv4Id, pair.floating.ipv6Id])
      .apply(([serverId, floatingIpv4Id, floatingIpv6Id]) => ({ key, serverId, floatingIpv4Id, floatingIpv6Id }));
    return {
      key,
      target: pair.targets[key],
      files: deployFiles(model, floatingAddresses, hostSecrets, { key, facts }),
      resourcePrefix: key === "primary" ? "" : `${key}-`,
    };
  };
  const { targets: _targets, ...shared } = pair;
  return { ...shared, hosts: { primary: served("primary"), standby: served("standby") } };
}

/** The stack outputs: addresses, what to whitelist, names, the firewall. No secret among them. */
export function telephonyOutputs(t: Telephony) {
  const ipAuthTrunks = t.model.trunks.filter((trunk) => !trunk.register);
  return {
    ipv4: t.addresses.ipv4Address,
    ipv6: t.addresses.ipv6Address,
    ipv6Network: t.addresses.ipv6Network ?? null,
    /** Per IP-authenticated trunk: the address its provider must whitelist for this stack. */
    ipAuthWhitelist: t.addresses.ipv4Address.apply((ipv4) =>
      Object.fromEntries(
        ipAuthTrunks.map((trunk) => [
          trunk.name,
          `${trunk.provider} must whitelist ${ipv4} (this stack's source IPv4 for SIP)`,
        ]),
      ),
    ),
    /**
     * The trunks this stack serves as gateways, by profile. A REGISTER trunk is served only by the
     * stacks its activeInStacks names, so a clone shows it missing here.
     */
    gateways: Object.fromEntries(
      t.model.profiles.map((p) => [
        p.name,
        t.model.trunks.filter((trunk) => trunk.active && trunk.profile === p.name).map((trunk) => trunk.name),
      ]),
    ),
    hostname: t.model.host.hostname ?? null,
    sipDomain: t.sipDomain,
    serverName: t.host.serverName,
    serverId: t.host.serverId,
    firewall: t.firewall ? { name: t.firewall.name, rules: t.firewall.summary } : null,
    dnsRecords: t.dns?.summary ?? null,
    tlsWarning: t.selfSignedCertificate?.warning ?? null,
    ...(t.standby ? { standby: standbyOutputs(t.standby) } : {}),
  };
}

/**
 * standby only: both hosts (their names, Hetzner server IDs, SSH addresses and private addresses),
 * the floating addresses carriers see, which host holds them first and the rollout order.
 */
export function standbyOutputs(pair: StandbyPair) {
  const host = (key: StandbyHostKey) => ({
    serverName: pair.hosts[key].target.serverName,
    serverId: pair.hetznerServerIds[key],
    sshAddress: pair.hosts[key].target.connection.host,
    privateIpv4: pair.plan.privateIpv4[key],
  });
  return {
    hosts: { primary: host("primary"), standby: host("standby") },
    floatingIpv4: pair.floating.ipv4Address,
    floatingIpv6: pair.floating.ipv6Address,
    floatingIpv6Network: pair.floating.ipv6Network,
    activeFirst: pair.plan.firstActive,
    rolloutOrder: [...pair.plan.rolloutOrder],
  };
}
