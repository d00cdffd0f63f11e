/**
 * A machine the user brings (host.provider existing: a Hetzner dedicated server, any VPS running
 * Debian 12), in place of the Hetzner server, primary IPs and cloud firewall: its addresses come
 * from config, the deploy logs in as root with the private key from `telephony:secrets`.
 *
 * Two steps make it ready, as cloud-init and the key step do for a Hetzner server: the bootstrap
 * (Docker, UFW, fail2ban; installs only what is missing) and root's authorized_keys (the key the
 * deploy uses, first, then the admins' keys). The bootstrap prints the host's ID, which stands
 * in for the Hetzner server ID: every host step re-runs when it changes. A machine rebuilt at the
 * same address is brought back with `pulumi up --replace <urn of host-bootstrap>` (docs/operations.md,
 * "Recovering a lost server onto the same addresses").
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { hostCleanupCommand } from "../sip/deploy";
import { renderBootstrapScript } from "../sip/bootstrap";
import type { ExistingHostConfig } from "../sip/schema";
import type { HostAddresses } from "../sip/renderedFile";
import { WRITE_AUTHORIZED_KEYS, type DeployTarget, type SshConnection } from "./host";

export interface ExistingHostArgs {
  readonly machine: ExistingHostConfig;
  /** OpenSSH private key that logs in as root (a Pulumi secret). */
  readonly privateKey: pulumi.Output<string>;
  /** Admins' public keys (OpenSSH one-line format), kept in root's authorized_keys after the deploy's own. */
  readonly adminSshPublicKeys: readonly string[];
  /** Stack files outside the host root (fail2ban jail, ACME units): removed with the stack. */
  readonly filesOutsideRoot: readonly string[];
}

export class ExistingHost extends pulumi.ComponentResource implements DeployTarget {
  readonly connection: SshConnection;
  readonly ready: command.remote.Command;
  /** The host's ID (HOST_ID_FILE), as the bootstrap printed it. */
  readonly serverId: pulumi.Output<string>;
  /** Where the deploy connects (host.existing.sshAddress, else the IPv4). */
  readonly serverName: string;
  readonly ipv4Address: pulumi.Output<string>;
  readonly ipv6Address: pulumi.Output<string>;
  readonly hostAddresses: pulumi.Output<HostAddresses>;

  constructor(name: string, args: ExistingHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("telephony:existing:Host", name, {}, opts);
    const { machine } = args;
    this.serverName = machine.sshAddress ?? machine.ipv4;
    this.ipv4Address = pulumi.output(machine.ipv4);
    this.ipv6Address = pulumi.output(machine.ipv6);
    this.hostAddresses = pulumi.output({ ipv4: machine.ipv4, ipv6: machine.ipv6 });
    // Only the private key is secret, so a preview still shows where the deploy connects.
    this.connection = {
      host: this.serverName,
      port: machine.sshPort,
      user: "root",
      privateKey: pulumi.secret(args.privateKey),
      dialErrorLimit: 5,
      perDialTimeout: 15,
    };

    const script = renderBootstrapScript();
    // An edited bootstrap runs again in place (same machine, same ID); only a replacement
    // (recovery onto a rebuilt machine) reads a new ID.
    const bootstrap = new command.remote.Command(
      `${name}-bootstrap`,
      { connection: this.connection, create: script, update: script, logging: "stderr" },
      { parent: this },
    );
    this.serverId = bootstrap.stdout.apply((id) => id.trim());
    // Destroy's last step on the machine. Its own resource, with nothing that a recovery changes:
    // were it the bootstrap's delete, replacing the bootstrap would wipe the machine it just set up.
    const removal = new command.remote.Command(
      `${name}-stack-removal`,
      {
        connection: this.connection,
        create: "echo 'pulumi destroy removes the stack from this machine here'",
        delete: hostCleanupCommand(args.filesOutsideRoot),
      },
      { parent: this, dependsOn: [bootstrap] },
    );

    // The public half of the deploy key is not secret: unwrap it so a preview shows the key list.
    const deployKey = pulumi.unsecret(
      tls.getPublicKeyOutput({ privateKeyOpenssh: args.privateKey }, { parent: this }).publicKeyOpenssh,
    );
    const authorizedKeys = deployKey.apply(
      (key) => [key, ...args.adminSshPublicKeys].map((k) => k.trim()).join("\n") + "\n",
    );
    this.ready = new command.remote.Command(
      `${name}-authorized-keys`,
      { connection: this.connection, create: WRITE_AUTHORIZED_KEYS, stdin: authorizedKeys, triggers: [this.serverId] },
      { parent: this, dependsOn: [removal] },
    );
    this.registerOutputs({ serverId: this.serverId, serverName: this.serverName });
  }
}
