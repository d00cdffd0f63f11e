/** What every step that runs on the host over SSH is given. */
import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

export type SshConnection = command.types.input.remote.ConnectionArgs;

/** The machine the host steps run on: a Hetzner server (host.ts) or one the user brings (existingHost.ts). */
export interface DeployTarget {
  /** SSH connection for @pulumi/command remote resources; the private key is a secret. */
  readonly connection: SshConnection;
  /** Depend on this before pushing anything: bootstrapped, admin keys in place. */
  readonly ready: pulumi.Resource;
  /** Changes when the machine is replaced by a new, empty one: every host step re-runs on it. */
  readonly serverId: pulumi.Output<string>;
  readonly serverName: string;
}

export interface HostStepArgs {
  readonly connection: SshConnection;
  /** What must be in place first. Pulumi does not pass a component's dependsOn to its children. */
  readonly after?: readonly pulumi.Resource[];
  /** The server's ID: a replacement server starts empty, so the step runs again on it. */
  readonly serverId: pulumi.Input<string>;
}

/**
 * A directory's contents as a CopyToRemote source. CopyToRemote copies a directory given without
 * a trailing slash into `<remotePath>/<its name>/`, and with one into `<remotePath>/` itself, where
 * the build commands look for the Dockerfile.
 */
export function directoryContents(dir: string): pulumi.asset.FileArchive {
  return new pulumi.asset.FileArchive(dir.endsWith("/") ? dir : `${dir}/`);
}
