/**
 * After an update, reads `sofia status` on the host and fails the update with a clear message if
 * a profile is not RUNNING or an active REGISTER trunk has not reached REGED in time.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { HostStepArgs } from "./hostStep";

export interface VerificationArgs extends HostStepArgs {
  /** The rendered verification script (sip/verify.ts). */
  readonly script: string;
  /** Anything else whose change should re-run the check (the pushed groups' payload hashes). */
  readonly rerunOn: pulumi.Input<string>[];
}

export class Verification extends pulumi.ComponentResource {
  readonly check: command.remote.Command;

  constructor(name: string, args: VerificationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("telephony:host:Verification", name, {}, opts);
    this.check = new command.remote.Command(
      `${name}-sofia-status`,
      {
        connection: args.connection,
        create: "bash -s",
        update: "bash -s",
        stdin: args.script,
        triggers: [args.serverId, ...args.rerunOn],
      },
      { parent: this, dependsOn: [...(args.after ?? [])] },
    );
    this.registerOutputs({ report: this.check.stdout });
  }
}
