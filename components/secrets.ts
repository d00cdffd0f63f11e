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

export interface GeneratedSecretsArgs {
  /**
   * telephony:rotation.apiStoreEncryption. Each generation is its own resource, so raising it creates a new
   * key while the previous generation's stays in the state and on the host (second line of
   * fernet_key) for the API to open its store with once; the generation before that is deleted.
   */
  readonly fernetKeyGeneration?: number;
}

/** Generation 0 keeps the name the key has always had. */
export function fernetKeyResourceName(name: string, generation: number): string {
  return generation === 0 ? `${name}-fernet-key` : `${name}-fernet-key-${generation}`;
}

export class GeneratedSecrets extends pulumi.ComponentResource {
  /** Every value is secret. */
  readonly values: pulumi.Output<HostSecrets>;

  constructor(name: string, args: GeneratedSecretsArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("telephony:secrets:Generated", name, {}, opts);
    // Letters and digits only: these go into XML attributes, fs_cli.conf and HTTP headers unescaped.
    const password = (key: string, length: number) =>
      new random.RandomPassword(`${name}-${key}`, { length, special: false }, { parent: this }).result;
    const generation = args.fernetKeyGeneration ?? 0;
    const fernetKey = (g: number) => randomKeyBase64(fernetKeyResourceName(name, g), this);
    const fernetKeys = pulumi.all(
      generation === 0 ? [fernetKey(0)] : [fernetKey(generation), fernetKey(generation - 1)],
    );

    this.values = pulumi.secret(
      pulumi
        .all([password("esl-password", 32), password("xml-curl-password", 32), password("admin-token", 48), fernetKeys])
        .apply(([eslPassword, xmlCurlPassword, adminToken, fernetBase64]): HostSecrets => ({
          eslPassword,
          xmlCurlPassword,
          adminToken,
          fernetKey: fernetBase64.map(fernetKeyFromBase64).join("\n"),
        })),
    );
    this.registerOutputs({ values: this.values });
  }
}
