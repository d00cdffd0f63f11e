/**
 * Pushes the rendered bundle to the host: one remote command per reload class, so a change to,
 * say, the ACL updates only the "acl" resource and runs only `reloadacl` — and `pulumi preview`
 * names what each change disrupts. Contents travel on stdin (never in a command line or a log);
 * a group's stdin is a Pulumi secret exactly when one of its files is, so previews diff the rest.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { fileGroups, filesPayload, sha256, writeFilesCommand, type FileGroup } from "../sip/deploy";
import { disruption } from "../sip/reload";
import type { DeployFile } from "./files";
import type { HostStepArgs } from "./hostStep";

export interface HostFilesArgs extends HostStepArgs {
  /** Every file with its content as an Output (secret exactly when the file holds a secret). */
  readonly files: readonly DeployFile[];
}

export class HostFiles extends pulumi.ComponentResource {
  /** One command per reload class, by group name (e.g. "acl", "profile-internal"). */
  readonly groups: Record<string, command.remote.Command> = {};
  readonly groupSpecs: readonly FileGroup[];
  /** Hash of each group's payload (secret for secret groups): what later steps re-run on. */
  readonly payloadHashes: pulumi.Output<string>[] = [];
  /** Group name → what a change to it disrupts. */
  readonly disruptions: Record<string, string>;

  constructor(name: string, args: HostFilesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("telephony:host:Files", name, {}, opts);
    this.groupSpecs = fileGroups(args.files.map((f) => ({ ...f, content: "" })));
    for (const group of this.groupSpecs) {
      const members = args.files.filter((f) => group.paths.includes(f.path));
      // pulumi.all keeps secretness: the payload is secret iff a member's content is.
      const payload = pulumi.all(members.map((f) => f.content)).apply((contents) =>
        filesPayload(
          members.map((f, i) => ({ ...f, content: contents[i] })),
          group.paths,
        ),
      );
      const script = writeFilesCommand(group);
      this.groups[group.name] = new command.remote.Command(
        `${name}-${group.name}`,
        {
          connection: args.connection,
          // Same script on create and update: an update rewrites the files in place and reloads;
          // without `update` the command would be replaced instead.
          create: script,
          update: script,
          stdin: payload,
          triggers: [args.serverId],
          logging: "stderr",
        },
        { parent: this, dependsOn: [...(args.after ?? [])] },
      );
      this.payloadHashes.push(payload.apply(sha256));
    }
    this.disruptions = Object.fromEntries(this.groupSpecs.map((g) => [g.name, disruption(g.reload)]));
    this.registerOutputs({ disruptions: this.disruptions });
  }
}
