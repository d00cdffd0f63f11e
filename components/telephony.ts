/**
 * The stack's composition, in order: addresses, firewall, host (on both), DNS, generated secrets,
 * and the rendered files from the real addresses. index.ts runs it and exports telephonyOutputs();
 * tests run the same function under Pulumi's mocks and can see what is not a stack output
 * (the rendered files, the host's SSH connection).
 */
import * as pulumi from "@pulumi/pulumi";
import { sipDomain, type HostSecrets } from "../sip/bundle";
import { dnsTokenOf, type LoadedStack } from "../sip/config";
import { inboundRules } from "../sip/firewall";
import { claimedHostname, type StackModel } from "../sip/model";
import { Addresses } from "./addresses";
import { Dns } from "./dns";
import { deployFiles, type DeployFile } from "./files";
import { Firewall } from "./firewall";
import { Host } from "./host";
import type { StackNaming } from "./naming";
import { secretTrunkPasswords } from "./pulumiConfig";
import { GeneratedSecrets } from "./secrets";
import { SelfSignedCertificate } from "./tls";

export interface Telephony {
  readonly model: StackModel;
  readonly naming: StackNaming;
  readonly addresses: Addresses;
  readonly firewall: Firewall;
  readonly host: Host;
  readonly dns?: Dns;
  readonly secrets: GeneratedSecrets;
  /** tls.mode self-signed only. */
  readonly selfSignedCertificate?: SelfSignedCertificate;
  /** REGISTER trunks' passwords from telephony:secrets, each a Pulumi secret. */
  readonly trunkPasswords: Record<string, pulumi.Output<string>>;
  /**
   * Every file the deploy step pushes (over host.connection, after host.ready), each content an
   * Output that is secret exactly when the file holds a secret, so previews can diff the rest.
   */
  readonly files: DeployFile[];
  readonly sipDomain: pulumi.Output<string>;
}

export function buildTelephony(loaded: LoadedStack, naming: StackNaming): Telephony {
  const { model } = loaded;
  // Names only one stack may hold (DNS, reverse DNS, certificate): set only where this stack owns them.
  const hostname = claimedHostname(model);
  const addresses = new Addresses("addresses", {
    naming,
    location: model.host.location,
    protect: model.production,
    hostname,
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
  const hostSecrets: pulumi.Output<HostSecrets> = pulumi.secret(
    pulumi
      .all([secrets.values, selfSignedCertificate?.pems, acmeDnsToken === undefined ? undefined : pulumi.secret(acmeDnsToken)])
      .apply(([generated, selfSigned, token]) => ({
        ...generated,
        ...(selfSigned ? { selfSignedCertificate: selfSigned } : {}),
        ...(token !== undefined ? { acmeDnsToken: token } : {}),
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
    ipv6Network: t.addresses.ipv6Network,
    /** Per IP-authenticated trunk: the address its provider must whitelist for this stack. */
    ipAuthWhitelist: t.addresses.ipv4Address.apply((ipv4) =>
      Object.fromEntries(ipAuthTrunks.map((trunk) => [trunk.name, `${trunk.provider} must whitelist ${ipv4} (this stack's source IPv4 for SIP)`])),
    ),
    /**
     * The trunks this stack serves as gateways, by profile. A REGISTER trunk is served only by the
     * stacks its activeInStacks names, so a clone shows it missing here.
     */
    gateways: Object.fromEntries(t.model.profiles.map((p) => [p.name, t.model.trunks.filter((trunk) => trunk.active && trunk.profile === p.name).map((trunk) => trunk.name)])),
    hostname: t.model.host.hostname ?? null,
    sipDomain: t.sipDomain,
    serverName: t.host.serverName,
    serverId: t.host.serverId,
    firewall: { name: t.firewall.name, rules: t.firewall.summary },
    dnsRecords: t.dns?.summary ?? null,
    tlsWarning: t.selfSignedCertificate?.warning ?? null,
  };
}
