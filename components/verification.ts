/**
 * After an update, reads `sofia status` on the host and fails the update with a clear message if
 * a profile is not RUNNING or an active REGISTER trunk has not reached REGED in time.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

export interface VerificationArgs {
  readonly connection: command.types.input.remote.ConnectionArgs;
  /** The rendered verification script (sip/render/verify.ts). */
  readonly script: string;
  /** Anything whose change should re-run the check (the pushed groups' payload hashes). */
  readonly rerunOn: pulumi.Input<string>[];
  /** What must run first. Pulumi does not pass a component's dependsOn to its children. */
  readonly after?: readonly pulumi.Resource[];
}

export class Verification extends pulumi.ComponentResource {
  readonly check: command.remote.Command;

  constructor(name: string, args: VerificationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("telephony:host:Verification", name, {}, opts);
    this.check = new command.remote.Command(
      `${name}-sofia-status`,
      { connection: args.connection, create: "bash -s", update: "bash -s", stdin: args.script, triggers: args.rerunOn },
      { parent: this, dependsOn: [...(args.after ?? [])] },
    );
    this.registerOutputs({ report: this.check.stdout });
  }
}
