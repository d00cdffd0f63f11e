/**
 * What runs on the host, in order, once the server is ready:
 *   files (one resource per reload class) → config API image and container → trunk and extension
 *   sets PUT to the API → (ACME) first certificate → FreeSWITCH container → verification.
 * Each change touches only the resources whose inputs it changes, and each of those runs only its
 * own reload, so `pulumi preview` says what a change disrupts.
 */
import * as pulumi from "@pulumi/pulumi";
import { extensionRecords, sha256 } from "../sip/deploy";
import { renderVerifyScript } from "../sip/verify";
import { activeGatewaySpecs } from "../sip/directory";
import { claimedHostname } from "../sip/model";
import { buildApiImageContext } from "./apiImage";
import { ConfigApiSync } from "./configApiSync";
import { ConfigApiContainer, FreeswitchContainer } from "./containers";
import { FreeswitchImage } from "./freeswitchImage";
import { ExtensionCredentials } from "./extensionCredentials";
import { HostFiles } from "./hostFiles";
import { directoryContents } from "./hostStep";
import type { Telephony } from "./telephony";
import { AcmeIssue } from "./tls";
import { Verification } from "./verification";

export interface Deployment {
  readonly files: HostFiles;
  readonly api: ConfigApiContainer;
  readonly sync: ConfigApiSync;
  readonly extensionCredentials: ExtensionCredentials;
  readonly acme?: AcmeIssue;
  readonly freeswitch: FreeswitchContainer;
  /** Absent when freeswitch.image names another image. */
  readonly freeswitchImage?: FreeswitchImage;
  readonly verification?: Verification;
}

export function buildDeployment(t: Telephony, projectDir: string): Deployment {
  const { model } = t;
  const connection = t.host.connection;
  // Ordering goes through each component's `after`: Pulumi does not hand a component's dependsOn
  // down to the resources it creates.
  // Every host step also re-runs on a new server ID: a replaced server starts empty.
  const serverId = t.host.serverId;
  const files = new HostFiles("files", { connection, files: t.files, after: [t.host.ready], serverId });
  const group = (name: string) => files.groups[name];
  const freeswitchFiles = Object.entries(files.groups)
    .filter(([name]) => !["api-restart", "host-firewall", "fail2ban", "acme"].includes(name))
    .map(([, resource]) => resource);

  const context = buildApiImageContext(projectDir);
  const api = new ConfigApiContainer("config-api", {
    connection,
    imageContext: directoryContents(context.dir),
    imageTag: context.tag,
    baseImage: model.freeswitch.apiBaseImage,
    // Created after dockerd has its log limits.
    after: [group("api-restart"), group("host-maintenance")],
    serverId,
  });

  const extensionCredentials = new ExtensionCredentials("extensions", { model });
  const trunksJson = pulumi
    .all(t.trunkPasswords)
    .apply((passwords) => JSON.stringify(activeGatewaySpecs(model, passwords)));
  const extensionsJson = extensionCredentials.values.apply((credentials) =>
    JSON.stringify(extensionRecords(model, credentials)),
  );
  const sync = new ConfigApiSync("config-api-sync", {
    connection,
    trunksJson,
    extensionsJson,
    after: [api.container],
    serverId,
  });

  const hostname = claimedHostname(model);
  const acme =
    model.tls.mode === "acme" && hostname
      ? new AcmeIssue("tls", {
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
      ? new FreeswitchImage("freeswitch-image", {
          connection,
          signalwireToken: t.signalwireToken ?? missingSignalwireToken(),
          after: [t.host.ready],
          serverId,
        })
      : undefined;
  const freeswitchImage = model.freeswitch.image ?? ownImage!.image;
  const freeswitch = new FreeswitchContainer("freeswitch", {
    connection,
    image: freeswitchImage,
    drainSeconds: model.maintenance.drainSeconds,
    after: [
      ...freeswitchFiles,
      api.container,
      sync.trunks,
      ...(acme ? [acme.issue] : []),
      ...(ownImage ? [ownImage.build] : []),
    ],
    serverId,
  });

  const verification = model.verify.enabled
    ? new Verification("verify", {
        connection,
        script: renderVerifyScript(model),
        rerunOn: [...files.payloadHashes, freeswitchImage, trunksJson.apply(sha256), freeswitch.running.containerId],
        after: [freeswitch.container, freeswitch.running, sync.trunks, sync.extensions],
        serverId,
      })
    : undefined;

  return { files, api, sync, extensionCredentials, acme, freeswitch, freeswitchImage: ownImage, verification };
}

/** The checks refuse a stack without the token before anything is registered; this is the backstop. */
function missingSignalwireToken(): never {
  throw new Error(
    "telephony:secrets.signalwireToken is not set (needed to install FreeSWITCH's packages when freeswitch.image is absent)",
  );
}
