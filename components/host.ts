/**
 * The Hetzner server on the stack's primary IPs and firewall, reachable over SSH with a deploy key
 * the stack generates, and a step that waits until cloud-init has finished before anything is
 * pushed (the deploy step depends on `ready` and uses `connection`).
 *
 * A Hetzner server is replaced when its user data, image, location or SSH keys change, so those
 * depend on nothing that evolves: the user data is the config-free bootstrap from
 * sip/bootstrap.ts, the only key Hetzner injects is the stack's own deploy key, and the
 * admins' keys are written to authorized_keys over SSH (changing them never touches the server).
 */
import * as command from "@pulumi/command";
import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { renderCloudInit } from "../sip/bootstrap";
import type { DeployTarget, SshConnection } from "./hostStep";
import type { StackNaming } from "./naming";

export type { DeployTarget, SshConnection };

export interface HostArgs {
  readonly naming: StackNaming;
  readonly environment: string;
  readonly location: string;
  readonly serverType: string;
  readonly image: string;
  /** The stack's primary IPs; both absent: Hetzner assigns the server its own (standby's second server). */
  readonly ipv4Id?: pulumi.Input<number>;
  readonly ipv6Id?: pulumi.Input<number>;
  /** Where the deploy connects: the primary IPv4 (CI runners often lack IPv6); absent: the server's IPv4. */
  readonly sshAddress?: pulumi.Input<string>;
  readonly firewallId: pulumi.Input<number>;
  /** Admins' public keys (OpenSSH one-line format), kept in root's authorized_keys. */
  readonly adminSshPublicKeys: readonly string[];
  /** Suffix of the server's and deploy key's physical names; absent: the stack's prefix alone. */
  readonly nameSuffix?: string;
  /** standby only: the pair's spread placement group, its private network and this host's address on it. */
  readonly standby?: {
    readonly key: string;
    readonly placementGroupId: pulumi.Input<number>;
    readonly subnetId: pulumi.Input<string>;
    readonly privateIpv4: string;
  };
}

/**
 * Waits for the bootstrap. `cloud-init status --wait` exits 0 when done, 1 on failure and, from
 * cloud-init 23.4, 2 when it finished with recoverable errors (deprecated keys and the like):
 * that is reported, not fatal. Docker must be running afterwards: the deploy step needs it.
 */
export const WAIT_FOR_CLOUD_INIT = [
  "rc=0; cloud-init status --wait >/dev/null || rc=$?",
  'if [ "$rc" -eq 2 ]; then echo "cloud-init finished with recoverable errors:" >&2; cloud-init status --long >&2; rc=0; fi',
  'if [ "$rc" -ne 0 ]; then echo "cloud-init failed (exit $rc):" >&2; cloud-init status --long >&2; exit "$rc"; fi',
  'systemctl is-active --quiet docker || { echo "docker is not running after cloud-init" >&2; exit 1; }',
  "echo cloud-init done",
].join("\n");

/** Replaces root's authorized_keys with exactly the keys on stdin, atomically. */
export const WRITE_AUTHORIZED_KEYS =
  "install -d -m 0700 /root/.ssh && umask 077 && cat > /root/.ssh/authorized_keys.new && mv -f /root/.ssh/authorized_keys.new /root/.ssh/authorized_keys && wc -l < /root/.ssh/authorized_keys";

export class Host extends pulumi.ComponentResource implements DeployTarget {
  readonly server: hcloud.Server;
  readonly serverId: pulumi.Output<string>;
  readonly serverName: string;
  readonly deployKey: tls.PrivateKey;
  /** SSH connection for @pulumi/command remote resources; the private key is a secret (and @pulumi/command hides the whole input). */
  readonly connection: SshConnection;
  /** Depend on this before pushing anything: cloud-init has finished and admin keys are in place. */
  readonly ready: command.remote.Command;

  constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("telephony:hcloud:Host", name, {}, opts);

    this.deployKey = new tls.PrivateKey(`${name}-deploy-key`, { algorithm: "ED25519" }, { parent: this });
    // Only the stack's own key is registered with Hetzner: Hetzner refuses a second SSH key with
    // the same fingerprint in one project, so registering the admins' keys would collide as soon
    // as a cloned stack (same config) is deployed next to production.
    const sshKey = new hcloud.SshKey(
      `${name}-deploy-key`,
      {
        name: args.naming.name(args.nameSuffix ? `${args.nameSuffix}-deploy` : "deploy"),
        publicKey: this.deployKey.publicKeyOpenssh.apply((k) => k.trim()),
        labels: { ...args.naming.labels },
      },
      { parent: this },
    );

    this.serverName = args.naming.name(args.nameSuffix);
    this.server = new hcloud.Server(
      `${name}-server`,
      {
        name: this.serverName,
        serverType: args.serverType,
        image: args.image,
        location: args.location,
        publicNets: [
          args.ipv4Id !== undefined && args.ipv6Id !== undefined
            ? { ipv4Enabled: true, ipv4: args.ipv4Id, ipv6Enabled: true, ipv6: args.ipv6Id }
            : { ipv4Enabled: true, ipv6Enabled: true },
        ],
        // Attached at creation, so the server is never reachable without it. The firewall's ID
        // is stable (its name and labels never change), so this input never changes either.
        firewallIds: [args.firewallId],
        sshKeys: [sshKey.id],
        userData: renderCloudInit(),
        labels: {
          ...args.naming.labels,
          environment: args.environment,
          ...(args.standby ? { "standby-host": args.standby.key } : {}),
        },
        shutdownBeforeDeletion: true,
        ...(args.standby ? { placementGroupId: args.standby.placementGroupId } : {}),
      },
      {
        parent: this,
        // The primary IPs can be on one server at a time and the name is unique per project:
        // the old server must go before its replacement is created.
        deleteBeforeReplace: true,
        // The bootstrap only matters when a server is built, and it takes no config. A later edit
        // of its renderer must not by itself replace a running production host (new host keys,
        // dropped calls). ignoreChanges only hides the input from the diff: when the server is
        // replaced for another reason (image, location, `pulumi up --replace`, recovery), the
        // engine recomputes the new server's inputs from the program, so every new server boots
        // with the current bootstrap. To roll an edited bootstrap out deliberately, replace the
        // server (`pulumi up --replace <server urn>`). Everything that evolves is pushed over SSH.
        ignoreChanges: ["userData"],
      },
    );
    this.serverId = this.server.id;

    // @pulumi/command's SDK wraps the whole `connection` input in a secret (its schema declares
    // it secret, since it may carry a password or key), so a preview shows `connection: [secret]`
    // for every remote step, host included; the host is the stack output `ipv4`. The private key
    // is made secret here as well, so it stays secret wherever else this object is used.
    this.connection = {
      host: args.sshAddress ?? this.server.ipv4Address,
      user: "root",
      privateKey: pulumi.secret(this.deployKey.privateKeyOpenssh),
      // A new server takes a minute or so before sshd answers (the provider's default is 10 tries).
      // The deploying machine must be inside host.adminSshRanges: the firewall admits nobody else.
      dialErrorLimit: 20,
      perDialTimeout: 15,
    };

    // standby: this host's address on the pair's private network (VRRP), in place before anything is pushed.
    const privateNetwork = args.standby
      ? new hcloud.ServerNetwork(
          `${name}-private-network`,
          { serverId: this.server.id.apply(Number), subnetId: args.standby.subnetId, ip: args.standby.privateIpv4 },
          { parent: this },
        )
      : undefined;

    const cloudInit = new command.remote.Command(
      `${name}-cloud-init`,
      { connection: this.connection, create: WAIT_FOR_CLOUD_INIT, triggers: [this.server.id] },
      { parent: this, dependsOn: [this.server, ...(privateNetwork ? [privateNetwork] : [])] },
    );

    const authorizedKeys = this.deployKey.publicKeyOpenssh.apply(
      (deployKey) => [deployKey, ...args.adminSshPublicKeys].map((k) => k.trim()).join("\n") + "\n",
    );
    this.ready = new command.remote.Command(
      `${name}-authorized-keys`,
      // A new stdin (keys changed) or a new server re-runs it; the deploy key always stays first.
      { connection: this.connection, create: WRITE_AUTHORIZED_KEYS, stdin: authorizedKeys, triggers: [this.server.id] },
      { parent: this, dependsOn: [cloudInit] },
    );

    this.registerOutputs({ serverId: this.serverId, serverName: this.serverName });
  }
}
