/**
 * Hands the trunk and extension sets to the config API. Each PUT replaces the whole set; the API
 * answers what changed and applies the smallest Sofia change itself (killgw + rescan). The sets
 * carry passwords, so they travel as secret stdin and the command logs nothing but the answer.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { apiPutCommand } from "../sip/deploy";
import type { HostStepArgs } from "./hostStep";

export const TRUNKS_PATH = "/api/v1/sip/trunks";
export const EXTENSIONS_PATH = "/api/v1/sip/extensions";

export interface ConfigApiSyncArgs extends HostStepArgs {
  /** JSON of the GatewaySpec[] for this stack's active trunks (with passwords). */
  readonly trunksJson: pulumi.Output<string>;
  /** JSON of the extensions (with their generated passwords). */
  readonly extensionsJson: pulumi.Output<string>;
}

export class ConfigApiSync extends pulumi.ComponentResource {
  readonly trunks: command.remote.Command;
  readonly extensions: command.remote.Command;

  constructor(name: string, args: ConfigApiSyncArgs, opts?: pulumi.ComponentResourceOptions) {
    super("telephony:host:ConfigApiSync", name, {}, opts);
    const put = (what: string, path: string, json: pulumi.Output<string>) =>
      new command.remote.Command(
        `${name}-${what}`,
        {
          connection: args.connection,
          create: apiPutCommand(path),
          update: apiPutCommand(path),
          stdin: pulumi.secret(json),
          triggers: [args.serverId],
          logging: "stdoutAndStderr",
        },
        { parent: this, additionalSecretOutputs: ["stdin"], dependsOn: [...(args.after ?? [])] },
      );
    this.trunks = put("trunks", TRUNKS_PATH, args.trunksJson);
    this.extensions = put("extensions", EXTENSIONS_PATH, args.extensionsJson);
    this.registerOutputs({});
  }
}
