/**
 * The rendered bundle (sip/bundle.ts) as Pulumi values, for the deploy step: one entry per file,
 * known when the program runs (paths and reload classes depend on the model only), each with its
 * content as an Output rendered from the primary IPs' real addresses.
 *
 * Files that carry no secret are rendered with masked secrets, so their content stays a plain
 * Output a preview can diff; files that do are rendered with the real values and are secrets.
 */
import * as pulumi from "@pulumi/pulumi";
import { MASK, MASKED_SECRETS, renderBundle, type HostSecrets } from "../sip/bundle";
import type { StackModel } from "../sip/model";
import type { StandbyHostFacts, StandbyHostKey } from "../sip/standby";
import type { ReloadClass } from "../sip/reload";
import type { HostAddresses, RenderedFile } from "../sip/renderedFile";

export interface DeployFile {
  readonly path: string;
  readonly reload: ReloadClass;
  readonly secret: boolean;
  readonly mode: string;
  /** A Pulumi secret exactly when `secret` is true. */
  readonly content: pulumi.Output<string>;
}

function pick(files: readonly RenderedFile[], path: string): RenderedFile {
  const file = files.find((f) => f.path === path);
  if (!file) throw new Error(`rendered bundle has no ${path}: the file list must not depend on addresses`);
  return file;
}

/** Stand-in facts for the layout: which files exist does not depend on the Hetzner IDs. */
function layoutFacts(model: StackModel, key: StandbyHostKey): StandbyHostFacts | undefined {
  return model.standby ? { key, serverId: "0", floatingIpv4Id: "0", floatingIpv6Id: "0" } : undefined;
}

/**
 * Which files exist, with reload class and mode: independent of addresses and secrets (with
 * standby: those of `key`'s host, the primary's by default).
 */
export function bundleLayout(model: StackModel, key: StandbyHostKey = "primary"): RenderedFile[] {
  return renderBundle(model, model.host.previewAddresses, MASKED_SECRETS, layoutFacts(model, key));
}

/** The whole bundle with real addresses and secrets, as one secret Output. */
function secretBundle(
  model: StackModel,
  addresses: pulumi.Input<HostAddresses>,
  secrets: pulumi.Input<HostSecrets>,
  host: pulumi.Input<StandbyHostFacts | undefined>,
): pulumi.Output<RenderedFile[]> {
  return pulumi.secret(pulumi.all([addresses, secrets, host]).apply(([a, s, h]) => renderBundle(model, a, s, h)));
}

/**
 * The files of one host. `host` (standby only): which host of the pair they are for, with its
 * Hetzner IDs; `addresses` are then the floating ones.
 */
export function deployFiles(
  model: StackModel,
  addresses: pulumi.Input<HostAddresses>,
  secrets: pulumi.Input<HostSecrets>,
  host?: { readonly key: StandbyHostKey; readonly facts: pulumi.Input<StandbyHostFacts> },
): DeployFile[] {
  const plain = pulumi.all([addresses, host?.facts]).apply(([a, h]) => renderBundle(model, a, MASKED_SECRETS, h));
  const secret = secretBundle(model, addresses, secrets, host?.facts);

  return bundleLayout(model, host?.key).map((f): DeployFile => ({
    path: f.path,
    reload: f.reload,
    secret: f.secret,
    mode: f.mode,
    content: f.secret
      ? secret.apply((files) => pick(files, f.path).content)
      : plain.apply((files) => {
          const content = pick(files, f.path).content;
          // A file not marked secret must not carry one: rendered with masks, it would show them.
          if (content.includes(MASK))
            throw new Error(`${f.path} is not marked secret but its content holds a secret value`);
          return content;
        }),
  }));
}
