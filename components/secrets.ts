/**
 * Secrets the stack generates for the host (sip/bundle.ts HostSecrets), with @pulumi/random: they
 * live encrypted in the stack state and reach the host only as Pulumi secrets.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { HostSecrets } from "../sip/bundle";

/** Fernet wants 32 random bytes in URL-safe base64 (44 characters with padding). */
export function fernetKeyFromBase64(base64: string): string {
  return base64.replace(/\+/g, "-").replace(/\//g, "_");
}

/**
 * 32 random bytes (base64) as a secret: the SHA-256 of a 64-character random password (about 380
 * bits). Not random.RandomBytes: its provider uses the bytes' base64 as the resource ID, which
 * Pulumi shows in every preview (`[id=...]`) and keeps unencrypted in the state.
 */
export function randomKeyBase64(resourceName: string, parent: pulumi.Resource): pulumi.Output<string> {
  const seed = new random.RandomPassword(resourceName, { length: 64, special: false }, { parent });
  return pulumi.secret(seed.result.apply((text) => createHash("sha256").update(text).digest("base64")));
}

export class GeneratedSecrets extends pulumi.ComponentResource {
  /** Every value is secret. */
  readonly values: pulumi.Output<HostSecrets>;

  constructor(name: string, args: Record<string, never> = {}, opts?: pulumi.ComponentResourceOptions) {
    super("telephony:secrets:Generated", name, args, opts);
    // Letters and digits only: these go into XML attributes, fs_cli.conf and HTTP headers unescaped.
    const password = (key: string, length: number) =>
      new random.RandomPassword(`${name}-${key}`, { length, special: false }, { parent: this }).result;
    const fernetBase64 = randomKeyBase64(`${name}-fernet-key`, this);

    this.values = pulumi.secret(
      pulumi
        .all([password("esl-password", 32), password("xml-curl-password", 32), password("admin-token", 48), fernetBase64])
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
