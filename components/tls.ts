/**
 * The certificate for SIP-TLS and WSS. acme: obtained on the host by the renewal job the bundle
 * ships (sip/render/tls.ts); this component runs it once before FreeSWITCH starts. self-signed:
 * made here with @pulumi/tls, its key a Pulumi secret end to end, with a loud warning.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import type { Tls } from "../sip/model";
import { ACME_PATHS } from "../sip/hostLayout";
import type { HostAddresses } from "../sip/renderedFile";
import type { HostStepArgs } from "./hostStep";

export const SELF_SIGNED_WARNING =
  "TLS uses a SELF-SIGNED certificate: browsers refuse WebRTC (WSS) to it and SIP-TLS peers must be told to trust it. Set host.hostname (and tls.email) to get an ACME certificate.";

export interface SelfSignedCertificateArgs {
  readonly commonName: pulumi.Input<string>;
  readonly addresses: pulumi.Input<HostAddresses>;
  readonly dnsNames: readonly string[];
}

export class SelfSignedCertificate extends pulumi.ComponentResource {
  /** Certificate and key, one secret Output (the key must never be plain). */
  readonly pems: pulumi.Output<{ certificatePem: string; privateKeyPem: string }>;
  readonly warning = SELF_SIGNED_WARNING;

  constructor(name: string, args: SelfSignedCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("telephony:tls:SelfSigned", name, {}, opts);
    const key = new tls.PrivateKey(`${name}-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: this });
    const cert = new tls.SelfSignedCert(
      `${name}-cert`,
      {
        privateKeyPem: key.privateKeyPem,
        subject: { commonName: args.commonName },
        dnsNames: [...args.dnsNames],
        ipAddresses: pulumi.output(args.addresses).apply((a) => [a.ipv4, a.ipv6]),
        validityPeriodHours: 24 * 365,
        earlyRenewalHours: 24 * 30,
        allowedUses: ["key_encipherment", "digital_signature", "server_auth"],
      },
      { parent: this },
    );
    this.pems = pulumi.secret(
      pulumi
        .all([cert.certPem, key.privateKeyPem])
        .apply(([certificatePem, privateKeyPem]) => ({ certificatePem, privateKeyPem })),
    );
    this.registerOutputs({ warning: this.warning });
  }
}

export interface AcmeIssueArgs extends HostStepArgs {
  readonly tls: Tls;
  readonly hostname: string;
}

/** Runs the host's renewal job once, so the certificate exists before FreeSWITCH loads its profiles. */
export class AcmeIssue extends pulumi.ComponentResource {
  readonly issue: command.remote.Command;

  constructor(name: string, args: AcmeIssueArgs, opts?: pulumi.ComponentResourceOptions) {
    super("telephony:tls:AcmeIssue", name, {}, opts);
    const { tls: t } = args;
    this.issue = new command.remote.Command(
      `${name}-first-issue`,
      {
        connection: args.connection,
        create: `bash ${ACME_PATHS.script}`,
        // Re-issue when what the certificate is for, or how it is obtained, changes.
        triggers: [args.hostname, t.challenge ?? "", t.acmeServer, args.serverId],
        logging: "stdoutAndStderr",
      },
      { parent: this, dependsOn: [...(args.after ?? [])] },
    );
    this.registerOutputs({});
  }
}
