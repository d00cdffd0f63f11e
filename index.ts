/**
 * The stack program: read and check the config (every problem is reported before any resource is
 * registered), build the Hetzner infrastructure (components/telephony.ts), export the outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { stackNaming } from "./components/naming";
import { pulumiConfigSource } from "./components/pulumiConfig";
import { buildDeployment } from "./components/deployment";
import { buildTelephony, telephonyOutputs } from "./components/telephony";
import { loadStack, type LoadedStack } from "./sip/config";
import { StackConfigError } from "./sip/problems";

function load(): LoadedStack {
  try {
    return loadStack(pulumiConfigSource());
  } catch (err) {
    // A clean list of every problem, without a stack trace.
    if (err instanceof StackConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
}

const telephony = buildTelephony(load(), stackNaming());
const deployment = buildDeployment(telephony, __dirname);

const outputs = telephonyOutputs(telephony);
export const {
  ipv4,
  ipv6,
  ipv6Network,
  ipAuthWhitelist,
  gateways,
  hostname,
  sipDomain,
  serverName,
  serverId,
  firewall,
  dnsRecords,
  tlsWarning,
} = outputs;
// standby only: both hosts, the floating addresses and the rollout order. Exported only when
// present, so a stack without standby keeps exactly its outputs (an export of undefined would
// still be a key, and Pulumi warns about it). index.ts compiles to CommonJS, where this is what
// `export const` does too.
if (outputs.standby) (exports as Record<string, unknown>).standby = outputs.standby;
/** SIP passwords (and API tokens) per extension, for provisioning phones: a secret output. */
export const extensionCredentials = deployment.extensionCredentials.values;
/** What a change to each pushed file group disrupts (the same words the preview's resource names map to). */
export const reloadClasses = deployment.files.disruptions;
