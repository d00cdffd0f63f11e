/**
 * The two containers on the host, as remote commands: the config API (built on the host from
 * the bundled service) and FreeSWITCH. Their inputs are only the image and the run command —
 * never rendered content or its hash — so a trunk or ACL change replaces no container; only an
 * image change (or the run command itself) does: the API's container is replaced, FreeSWITCH's
 * is updated in place by its own start script, which drains it first (sip/drain.ts).
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import {
  apiImageBuildCommand,
  apiRunCommand,
  freeswitchRunCommand,
  removeContainerCommand,
  API_IMAGE_REPO,
} from "../sip/deploy";
import type { ApiSettings } from "../sip/apiContract";
import { API_CONTAINER, FREESWITCH_CONTAINER, HOST_PATHS } from "../sip/hostLayout";
import type { HostStepArgs } from "./hostStep";
import { RunningContainer } from "./runningContainer";

export interface ConfigApiContainerArgs extends HostStepArgs {
  /** Directory holding the bundled service and its Dockerfile (npm run build:api). */
  readonly imageContext: pulumi.asset.Archive;
  /** Hash of the bundle: the image tag, so a new build is a new image. */
  readonly imageTag: string;
  readonly baseImage: string;
  /** standby only: the API's `ha` settings, so its container mounts the role keepalived writes. */
  readonly ha?: ApiSettings["ha"];
}

export class ConfigApiContainer extends pulumi.ComponentResource {
  readonly container: command.remote.Command;

  constructor(name: string, args: ConfigApiContainerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("telephony:host:ConfigApiContainer", name, {}, opts);
    const copy = new command.remote.CopyToRemote(
      `${name}-context`,
      {
        connection: args.connection,
        source: args.imageContext,
        remotePath: HOST_PATHS.apiImage,
        triggers: [args.imageTag, args.serverId],
      },
      { parent: this, dependsOn: [...(args.after ?? [])] },
    );
    const image = new command.remote.Command(
      `${name}-image`,
      {
        connection: args.connection,
        create: apiImageBuildCommand(args.imageTag, args.baseImage),
        triggers: [args.imageTag, args.baseImage, args.serverId],
      },
      { parent: this, dependsOn: [copy] },
    );
    this.container = new command.remote.Command(
      `${name}-container`,
      {
        connection: args.connection,
        create: apiRunCommand(`${API_IMAGE_REPO}:${args.imageTag}`, args.ha ? { ha: args.ha } : {}),
        delete: removeContainerCommand(API_CONTAINER),
        triggers: [args.serverId],
      },
      { parent: this, dependsOn: [image, ...(args.after ?? [])], deleteBeforeReplace: true },
    );
    this.registerOutputs({ image: `${API_IMAGE_REPO}:${args.imageTag}` });
  }
}

export interface FreeswitchContainerArgs extends HostStepArgs {
  /** The project's image (repository:tag), or freeswitch.image pinned by digest. */
  readonly image: string;
  /** maintenance.drainSeconds: how long a restart onto a new image waits for calls to end. */
  readonly drainSeconds: number;
}

export class FreeswitchContainer extends pulumi.ComponentResource {
  readonly container: command.remote.Command;
  /** Reads the container back on refresh and starts it again if it went missing (drift). */
  readonly running: RunningContainer;

  constructor(name: string, args: FreeswitchContainerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("telephony:host:FreeswitchContainer", name, {}, opts);
    const start = freeswitchRunCommand(args.image, args.drainSeconds);
    this.container = new command.remote.Command(
      `${name}-container`,
      {
        connection: args.connection,
        create: start,
        // An image change updates in place with the same script: it drains the running container
        // (up to drainSeconds for calls to end), then removes it and runs the new image. A
        // replacement would run the old state's delete first, a plain `docker rm -f`.
        update: start,
        delete: removeContainerCommand(FREESWITCH_CONTAINER),
        triggers: [args.serverId],
      },
      { parent: this, dependsOn: [...(args.after ?? [])], deleteBeforeReplace: true },
    );
    this.running = new RunningContainer(
      `${name}-running`,
      { connection: args.connection, container: FREESWITCH_CONTAINER, startScript: start },
      { parent: this, dependsOn: [this.container] },
    );
    this.registerOutputs({ image: args.image });
  }
}
