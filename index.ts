/**
 * The stack program: read and check the config (every problem is reported before any resource is
 * registered), build the Hetzner infrastructure (components/telephony.ts), export the outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { stackNaming } from "./components/naming";
import { pulumiConfigSource } from "./components/pulumiConfig";
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
// The deploy step (issue 5) goes here: push telephony.files over telephony.host.connection,
// after telephony.host.ready.

export const { ipv4, ipv6, ipv6Network, ipAuthWhitelist, hostname, sipDomain, serverName, serverId, firewall, dnsRecords } = telephonyOutputs(telephony);
