/**
 * Pushes the rendered bundle to the host: one remote command per reload class, so a change to,
 * say, the ACL updates only the "acl" resource and runs only `reloadacl` — and `pulumi preview`
 * names what each change disrupts. Contents travel on stdin (never in a command line or a log);
 * groups holding secrets carry them as Pulumi secrets.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { fileGroups, filesPayload, writeFilesCommand, type FileGroup } from "../sip/deploy";
import { disruption } from "../sip/reload";
import type { RenderedFile } from "../sip/render/types";

export interface HostFilesArgs {
  readonly connection: command.types.input.remote.ConnectionArgs;
  /** The bundle's layout (paths and reload classes), known before the addresses are. */
  readonly layout: readonly RenderedFile[];
  /** The bundle with real addresses and secrets. */
  readonly files: pulumi.Output<RenderedFile[]>;
}

export class HostFiles extends pulumi.ComponentResource {
  /** One command per reload class, by group name (e.g. "acl", "profile-internal"). */
  readonly groups: Record<string, command.remote.Command> = {};
  readonly groupSpecs: readonly FileGroup[];

  constructor(name: string, args: HostFilesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("telephony:host:Files", name, {}, opts);
    this.groupSpecs = fileGroups(args.layout);
    for (const group of this.groupSpecs) {
      const payload = args.files.apply((files) => filesPayload(files, group.paths));
      const script = writeFilesCommand(group);
      this.groups[group.name] = new command.remote.Command(
        `${name}-${group.name}`,
        {
          connection: args.connection,
          // Same script on create and update: an update rewrites the files in place and reloads;
          // without `update` the command would be replaced instead.
          create: script,
          update: script,
          stdin: group.secret ? pulumi.secret(payload) : payload,
          logging: "stderr",
        },
        { parent: this, additionalSecretOutputs: group.secret ? ["stdin"] : [] },
      );
    }
    this.registerOutputs({
      disruptions: Object.fromEntries(this.groupSpecs.map((g) => [g.name, disruption(g.reload)])),
    });
  }
}
