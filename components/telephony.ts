/**
 * The stack's composition, in order: the host with its addresses (a Hetzner server on primary IPs
 * behind a cloud firewall, or a machine the user brings: host.provider), DNS, generated secrets,
 * and the rendered files from the real addresses. index.ts runs it and exports telephonyOutputs();
 * tests run the same function under Pulumi's mocks and can see what is not a stack output
 * (the rendered files, the host's SSH connection).
 */
import * as pulumi from "@pulumi/pulumi";
import { sipDomain, type HostSecrets } from "../sip/bundle";
import { dnsTokenOf, type LoadedStack } from "../sip/config";
import { inboundRules } from "../sip/firewall";
import { claimedHostname, type StackModel } from "../sip/model";
import { Addresses, type PublicAddresses } from "./addresses";
import { Dns } from "./dns";
import { HOST_ROOT } from "../sip/hostLayout";
import { bundleLayout, deployFiles, type DeployFile } from "./files";
import { Firewall } from "./firewall";
import { ExistingHost } from "./existingHost";
import { Host, type DeployTarget } from "./host";
import type { StackNaming } from "./naming";
import { secretTrunkPasswords } from "./pulumiConfig";
import { GeneratedSecrets } from "./secrets";
import { SelfSignedCertificate } from "./tls";

export interface Telephony {
  readonly model: StackModel;
  readonly naming: StackNaming;
  readonly addresses: PublicAddresses;
  /** host.provider hetzner only (a machine you bring has UFW as its only firewall). */
  readonly firewall?: Firewall;
  readonly host: DeployTarget;
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
   */
  readonly files: DeployFile[];
  readonly sipDomain: pulumi.Output<string>;
}

/** host.provider hetzner: primary IPs, the cloud firewall, the server on both. */
function hetznerHost(model: StackModel, naming: StackNaming) {
  const addresses = new Addresses("addresses", {
    naming,
    location: model.host.location,
    protect: model.production,
    // Reverse DNS names the host only where this stack owns the name (a copied config does not).
    hostname: claimedHostname(model),
    existingIds: model.host.existingPrimaryIpIds,
  });
  const firewall = new Firewall("firewall", { naming, rules: inboundRules(model) });
  const host = new Host("host", {
    naming,
    environment: model.environment,
    location: model.host.location,
    serverType: model.host.serverType,
    image: model.host.image,
    ipv4Id: addresses.ipv4Id,
    ipv6Id: addresses.ipv6Id,
    sshAddress: addresses.ipv4Address,
    firewallId: firewall.firewallId,
    adminSshPublicKeys: model.host.sshPublicKeys,
  });
  return { addresses, firewall, host };
}

/** host.provider existing: the machine at host.existing, its addresses from config; nothing at Hetzner. */
function existingHost(loaded: LoadedStack) {
  const { model, secrets } = loaded;
  if (!model.host.existing) throw new Error("host.existing is checked to be set for host.provider existing");
  const host = new ExistingHost("host", {
    machine: model.host.existing,
    // Checked to be set wherever secrets can be read; offline (no secrets) nothing is deployed.
    privateKey: pulumi.secret(secrets?.sshPrivateKey ?? ""),
    adminSshPublicKeys: model.host.sshPublicKeys,
    filesOutsideRoot: bundleLayout(model)
      .map((f) => f.path)
      .filter((path) => !path.startsWith(`${HOST_ROOT}/`)),
  });
  return { addresses: host, firewall: undefined, host };
}

export function buildTelephony(loaded: LoadedStack, naming: StackNaming): Telephony {
  const { model } = loaded;
  // Names only one stack may hold (DNS, reverse DNS, certificate): set only where this stack owns them.
  const hostname = claimedHostname(model);
  const { addresses, firewall, host } =
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
  const hostSecrets: pulumi.Output<HostSecrets> = pulumi.secret(
    pulumi
      .all([
        secrets.values,
        selfSignedCertificate?.pems,
        acmeDnsToken === undefined ? undefined : pulumi.secret(acmeDnsToken),
        alertsWebhookToken === undefined ? undefined : pulumi.secret(alertsWebhookToken),
      ])
      .apply(([generated, selfSigned, token, alertsToken]) => ({
        ...generated,
        ...(selfSigned ? { selfSignedCertificate: selfSigned } : {}),
        ...(token !== undefined ? { acmeDnsToken: token } : {}),
        ...(alertsToken !== undefined ? { alertsWebhookToken: alertsToken } : {}),
      })),
  );
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
    files: deployFiles(model, addresses.hostAddresses, hostSecrets),
    sipDomain: addresses.hostAddresses.apply((a) => sipDomain(model, a)),
  };
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
  };
}
