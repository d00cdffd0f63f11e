/**
 * What runs on the host, in order, once the server is ready:
 *   files (one resource per reload class) → config API image and container → trunk and extension
 *   sets PUT to the API → (ACME) first certificate → FreeSWITCH container → verification.
 * Each change touches only the resources whose inputs it changes, and each of those runs only its
 * own reload, so `pulumi preview` says what a change disrupts.
 *
 * With standby, each host runs the same steps (the standby's names start with "standby-"), the
 * standby first; then `ha-enable-primary` and `ha-enable-standby` let keepalived elect the primary.
 */
import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { extensionRecords, sha256 } from "../sip/deploy";
import { renderVerifyScript } from "../sip/verify";
import { activeGatewaySpecs } from "../sip/directory";
import { API_HA_STATE } from "../sip/hostLayout";
import { claimedHostname } from "../sip/model";
import type { StandbyHostKey } from "../sip/standby";
import { buildApiImageContext } from "./apiImage";
import { ConfigApiSync } from "./configApiSync";
import { ConfigApiContainer, FreeswitchContainer } from "./containers";
import { FreeswitchImage } from "./freeswitchImage";
import { ExtensionCredentials } from "./extensionCredentials";
import { HostFiles } from "./hostFiles";
import { directoryContents } from "./hostStep";
import { haEnable } from "./standby";
import type { ServedHost, Telephony } from "./telephony";
import { AcmeIssue } from "./tls";
import { Verification } from "./verification";

/** The steps on one host. */
export interface HostPipeline {
  readonly files: HostFiles;
  readonly api: ConfigApiContainer;
  readonly sync: ConfigApiSync;
  readonly acme?: AcmeIssue;
  readonly freeswitch: FreeswitchContainer;
  /** Absent when freeswitch.image names another image. */
  readonly freeswitchImage?: FreeswitchImage;
  readonly verification?: Verification;
  /** The host's last steps: done means this host serves (verified, where verification is on). */
  readonly done: readonly pulumi.Resource[];
}

export interface Deployment extends Omit<HostPipeline, "done"> {
  readonly extensionCredentials: ExtensionCredentials;
  /** standby only: each host's pipeline (the primary's is also this object's own fields) and the enable steps. */
  readonly standby?: {
    readonly pipelines: Readonly<Record<StandbyHostKey, HostPipeline>>;
    readonly enable: Readonly<Record<StandbyHostKey, command.remote.Command>>;
  };
}

/** What every host's pipeline shares: the config API's sets, rendered once. */
interface SharedPayloads {
  readonly trunksJson: pulumi.Output<string>;
  readonly extensionsJson: pulumi.Output<string>;
}

/**
 * One host's steps. `prefix` starts every resource name ("" for the primary, so a stack without
 * standby keeps its names); `gate`: what every step that can disrupt this host waits for (with
 * standby, the primary waits for the standby's verification).
 */
function hostPipeline(
  t: Telephony,
  served: ServedHost,
  shared: SharedPayloads,
  projectDir: string,
  gate: readonly pulumi.Resource[],
): HostPipeline {
  const { model } = t;
  const prefix = served.resourcePrefix;
  const target = served.target;
  const connection = target.connection;
  // Ordering goes through each component's `after`: Pulumi does not hand a component's dependsOn
  // down to the resources it creates.
  // Every host step also re-runs on a new server ID: a replaced server starts empty.
  const serverId = target.serverId;
  const files = new HostFiles(`${prefix}files`, {
    connection,
    files: served.files,
    after: [target.ready, ...gate],
    serverId,
  });
  const group = (name: string) => files.groups[name];
  const freeswitchFiles = Object.entries(files.groups)
    .filter(([name]) => !["api-restart", "host-firewall", "fail2ban", "acme"].includes(name))
    .map(([, resource]) => resource);

  const context = buildApiImageContext(projectDir);
  const api = new ConfigApiContainer(`${prefix}config-api`, {
    connection,
    imageContext: directoryContents(context.dir),
    imageTag: context.tag,
    baseImage: model.freeswitch.apiBaseImage,
    ...(served.key ? { ha: { statePath: API_HA_STATE, host: served.key } } : {}),
    // Created after dockerd has its log limits.
    after: [group("api-restart"), group("host-maintenance"), ...gate],
    serverId,
  });

  const sync = new ConfigApiSync(`${prefix}config-api-sync`, {
    connection,
    trunksJson: shared.trunksJson,
    extensionsJson: shared.extensionsJson,
    after: [api.container],
    serverId,
  });

  const hostname = claimedHostname(model);
  const acme =
    model.tls.mode === "acme" && hostname
      ? new AcmeIssue(`${prefix}tls`, {
          connection,
          tls: model.tls,
          hostname,
          after: [group("acme"), ...(t.dns ? [t.dns] : [])],
          serverId,
        })
      : undefined;

  // freeswitch.image absent: FreeSWITCH's packages, built into an image on the host (skipped when there).
  const ownImage =
    model.freeswitch.image === undefined
      ? new FreeswitchImage(`${prefix}freeswitch-image`, {
          connection,
          signalwireToken: t.signalwireToken ?? missingSignalwireToken(),
          after: [target.ready, ...gate],
          serverId,
        })
      : undefined;
  const freeswitchImage = model.freeswitch.image ?? ownImage!.image;
  const freeswitch = new FreeswitchContainer(`${prefix}freeswitch`, {
    connection,
    image: freeswitchImage,
    drainSeconds: model.maintenance.drainSeconds,
    after: [
      ...freeswitchFiles,
      api.container,
      sync.trunks,
      ...(acme ? [acme.issue] : []),
      ...(ownImage ? [ownImage.build] : []),
      ...gate,
    ],
    serverId,
  });

  const verification = model.verify.enabled
    ? new Verification(`${prefix}verify`, {
        connection,
        script: renderVerifyScript(model),
        rerunOn: [
          ...files.payloadHashes,
          freeswitchImage,
          shared.trunksJson.apply(sha256),
          freeswitch.running.containerId,
        ],
        after: [freeswitch.container, freeswitch.running, sync.trunks, sync.extensions],
        serverId,
      })
    : undefined;

  const done = verification
    ? [verification.check]
    : [freeswitch.container, freeswitch.running, sync.trunks, sync.extensions];
  return { files, api, sync, acme, freeswitch, freeswitchImage: ownImage, verification, done };
}

export function buildDeployment(t: Telephony, projectDir: string): Deployment {
  const { model } = t;
  const extensionCredentials = new ExtensionCredentials("extensions", { model });
  const shared: SharedPayloads = {
    trunksJson: pulumi.all(t.trunkPasswords).apply((passwords) => JSON.stringify(activeGatewaySpecs(model, passwords))),
    extensionsJson: extensionCredentials.values.apply((credentials) =>
      JSON.stringify(extensionRecords(model, credentials)),
    ),
  };

  if (!t.standby) {
    const single: ServedHost = { target: t.host, files: t.files, resourcePrefix: "" };
    const { done: _done, ...pipeline } = hostPipeline(t, single, shared, projectDir, []);
    return { ...pipeline, extensionCredentials };
  }

  // A restarting change reaches the hosts in the plan's order (standby first): each host's steps
  // that can disrupt it wait for the previous host's verification, so a bad image or config stops
  // on the host that is not serving.
  const pair = t.standby;
  const pipelines: Partial<Record<StandbyHostKey, HostPipeline>> = {};
  let gate: readonly pulumi.Resource[] = [];
  for (const key of pair.plan.rolloutOrder) {
    pipelines[key] = hostPipeline(t, pair.hosts[key], shared, projectDir, gate);
    gate = pipelines[key].done;
  }
  const primary = pipelines.primary!;
  const standby = pipelines.standby!;

  // Then the election: the primary is enabled first and takes the floating addresses (nobody
  // else is enabled), the standby after it stays backup. Once per server: an `up` after a
  // takeover leaves the roles as keepalived set them.
  const enablePrimary = haEnable({
    key: "primary",
    connection: pair.hosts.primary.target.connection,
    serverId: pair.hosts.primary.target.serverId,
    after: [...primary.done, ...standby.done],
  });
  const enableStandby = haEnable({
    key: "standby",
    connection: pair.hosts.standby.target.connection,
    serverId: pair.hosts.standby.target.serverId,
    after: [enablePrimary],
  });

  const { done: _done, ...primaryFields } = primary;
  return {
    ...primaryFields,
    extensionCredentials,
    standby: {
      pipelines: { primary, standby },
      enable: { primary: enablePrimary, standby: enableStandby },
    },
  };
}

/** The checks refuse a stack without the token before anything is registered; this is the backstop. */
function missingSignalwireToken(): never {
  throw new Error(
    "telephony:secrets.signalwireToken is not set (needed to install FreeSWITCH's packages when freeswitch.image is absent)",
  );
}
