/**
 * The packaged FreeSWITCH image on the host (sip/freeswitchImage.ts): one command that builds it
 * from SignalWire's Debian packages with the operator's token, unless the tag is already there.
 * The tag is a hash of the Dockerfile, so the build runs again only when the Dockerfile changes
 * (or the server is replaced).
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { freeswitchImageBuildCommand } from "../sip/deploy";
import { freeswitchImageName, renderFreeswitchDockerfile } from "../sip/freeswitchImage";
import type { HostStepArgs } from "./hostStep";

export interface FreeswitchImageArgs extends HostStepArgs {
  /** SignalWire personal access token (telephony:secrets.signalwireToken). */
  readonly signalwireToken: pulumi.Input<string>;
}

export class FreeswitchImage extends pulumi.ComponentResource {
  /** repository:tag: known at preview, so a diff shows an image change. */
  readonly image: string;
  /** The build (or the finding of the tag on the host): the container starts after it. */
  readonly build: command.remote.Command;

  constructor(name: string, args: FreeswitchImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("telephony:host:FreeswitchImage", name, {}, opts);
    const dockerfile = renderFreeswitchDockerfile();
    this.image = freeswitchImageName(dockerfile);
    this.build = new command.remote.Command(
      `${name}-build`,
      {
        connection: args.connection,
        create: freeswitchImageBuildCommand(this.image, dockerfile),
        // The token is the command's stdin, a secret: it is in no command line, log or plain plan.
        stdin: pulumi.secret(args.signalwireToken),
        // Not the token: a rotated token builds nothing new.
        triggers: [this.image, args.serverId],
      },
      // Downloading and installing the packages takes a few minutes on a small server.
      { parent: this, dependsOn: [...(args.after ?? [])], customTimeouts: { create: "30m" } },
    );
    this.registerOutputs({ image: this.image });
  }
}
