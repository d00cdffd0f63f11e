/**
 * The project's FreeSWITCH image on the host: its build context (files/freeswitch/ plus the pinned
 * commits and module list, bin/freeswitchImage.ts) is copied over and built there, from GitHub's
 * archives at the pinned commits. The tag is a hash of the build inputs, so the build runs only
 * when they change, and not at all when the image is already on the host (a preloaded image).
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { writeFreeswitchImageContext, type FreeswitchImageContext } from "../bin/freeswitchImage";
import { FREESWITCH_IMAGE_DIR, freeswitchImageBuildCommand } from "../sip/deploy";
import { directoryContents, type HostStepArgs } from "./hostStep";

const contexts = new Map<string, FreeswitchImageContext>();

/** Writes the build context to dist/freeswitch-image/ once per program run. */
export function freeswitchImageContext(projectDir: string): FreeswitchImageContext {
  const cached = contexts.get(projectDir);
  if (cached) return cached;
  const dir = join(projectDir, "dist", "freeswitch-image");
  // Only the context's own files: nothing left over from an earlier version is copied to the host.
  rmSync(dir, { recursive: true, force: true });
  const context = writeFreeswitchImageContext(projectDir, dir);
  contexts.set(projectDir, context);
  return context;
}

export interface FreeswitchImageArgs extends HostStepArgs {
  readonly projectDir: string;
}

export class FreeswitchImage extends pulumi.ComponentResource {
  /** repository:tag: known at preview, so a diff shows an image change. */
  readonly image: string;
  /** The build (or the finding of the tag on the host): the container starts after it. */
  readonly build: command.remote.Command;

  constructor(name: string, args: FreeswitchImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("telephony:host:FreeswitchImage", name, {}, opts);
    const context = freeswitchImageContext(args.projectDir);
    const copy = new command.remote.CopyToRemote(
      `${name}-context`,
      { connection: args.connection, source: directoryContents(context.dir), remotePath: FREESWITCH_IMAGE_DIR, triggers: [context.tag, args.serverId] },
      { parent: this, dependsOn: [...(args.after ?? [])] },
    );
    this.image = context.image;
    this.build = new command.remote.Command(
      `${name}-build`,
      { connection: args.connection, create: freeswitchImageBuildCommand(context.image), triggers: [context.tag, args.serverId] },
      // A first build takes several minutes on a small server (README).
      { parent: this, dependsOn: [copy], customTimeouts: { create: "60m" } },
    );
    this.registerOutputs({ image: this.image });
  }
}
