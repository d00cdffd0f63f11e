/** What every step that runs on the host over SSH is given. */
import type * as pulumi from "@pulumi/pulumi";
import type { SshConnection } from "./host";

export interface HostStepArgs {
  readonly connection: SshConnection;
  /** What must be in place first. Pulumi does not pass a component's dependsOn to its children. */
  readonly after?: readonly pulumi.Resource[];
  /** The server's ID: a replacement server starts empty, so the step runs again on it. */
  readonly serverId: pulumi.Input<string>;
}
