/**
 * Secrets the stack generates for the host (sip/bundle.ts HostSecrets), with @pulumi/random: they
 * live encrypted in the stack state and reach the host only as Pulumi secrets.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { HostSecrets } from "../sip/bundle";

/** Fernet wants 32 random bytes in URL-safe base64 (44 characters with padding). */
export function fernetKeyFromBase64(base64: string): string {
  return base64.replace(/\+/g, "-").replace(/\//g, "_");
}

export class GeneratedSecrets extends pulumi.ComponentResource {
  /** Every value is secret. */
  readonly values: pulumi.Output<HostSecrets>;

  constructor(name: string, args: Record<string, never> = {}, opts?: pulumi.ComponentResourceOptions) {
    super("telephony:secrets:Generated", name, args, opts);
    // Letters and digits only: these go into XML attributes, fs_cli.conf and HTTP headers unescaped.
    const password = (key: string, length: number) =>
      new random.RandomPassword(`${name}-${key}`, { length, special: false }, { parent: this }).result;
    const fernetBytes = new random.RandomBytes(`${name}-fernet-key`, { length: 32 }, { parent: this });

    this.values = pulumi.secret(
      pulumi
        .all([password("esl-password", 32), password("xml-curl-password", 32), password("admin-token", 48), fernetBytes.base64])
        .apply(([eslPassword, xmlCurlPassword, adminToken, fernetBase64]): HostSecrets => ({
          eslPassword,
          xmlCurlPassword,
          adminToken,
          fernetKey: fernetKeyFromBase64(fernetBase64),
        })),
    );
    this.registerOutputs({ values: this.values });
  }
}
