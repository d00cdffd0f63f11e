/**
 * Extension credentials, generated with @pulumi/random: a SIP password for every extension and,
 * for extensions with permissions, an API token. All are secrets (exported as secret outputs for
 * provisioning phones); the API receives the passwords and only the tokens' hashes.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { ExtensionCredentials as Credentials } from "../sip/deploy";
import type { StackModel } from "../sip/model";

export class ExtensionCredentials extends pulumi.ComponentResource {
  readonly values: pulumi.Output<Record<string, Credentials>>;

  constructor(name: string, args: { model: StackModel }, opts?: pulumi.ComponentResourceOptions) {
    super("telephony:secrets:ExtensionCredentials", name, {}, opts);
    const secret = (key: string, length: number) =>
      new random.RandomPassword(`${name}-${key}`, { length, special: false }, { parent: this }).result;
    const entries = args.model.extensions.map((e) =>
      pulumi
        .all([
          secret(`${e.id}-sip-password`, 24),
          e.permissions.length > 0 ? secret(`${e.id}-api-token`, 40) : undefined,
        ])
        .apply(([password, apiToken]) => [e.id, apiToken ? { password, apiToken } : { password }] as const),
    );
    this.values = pulumi.secret(pulumi.all(entries).apply((pairs) => Object.fromEntries(pairs)));
    this.registerOutputs({});
  }
}
