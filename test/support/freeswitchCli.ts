/** Asking a running FreeSWITCH through fs_cli: any command, `sofia status` as rows, a gateway's state, calls in progress. */
import { docker } from "./exec";

/** What fs_cli needs of a running stack: the name of its FreeSWITCH container. */
export interface FreeswitchContainer {
  readonly containers: { readonly freeswitch: string };
}

/** fs_cli inside the FreeSWITCH container (it reads the deployed /etc/fs_cli.conf for the ESL password). */
export async function fsCli(stack: FreeswitchContainer, command: string): Promise<string> {
  return docker("exec", stack.containers.freeswitch, "fs_cli", "-x", command);
}

/** Calls FreeSWITCH has in progress (`show calls count`). */
export async function callCount(stack: FreeswitchContainer): Promise<number> {
  const match = /(\d+) total/.exec(await fsCli(stack, "show calls count"));
  return match ? Number(match[1]) : 0;
}

export interface SofiaStatusRow {
  /** A profile's name, or "<profile>::<gateway>" for a gateway. */
  readonly name: string;
  readonly type: "profile" | "gateway" | "alias";
  readonly data: string;
  /** e.g. "RUNNING (0)", "RUNNING (0) (TLS)", "REGED", "NOREG", "TRYING (retry: 29s)". */
  readonly state: string;
}

/** `sofia status` as rows (a profile has one row per transport: UDP/TCP and TLS). */
export async function sofiaStatus(stack: FreeswitchContainer): Promise<SofiaStatusRow[]> {
  const out = await fsCli(stack, "sofia status");
  return out
    .split("\n")
    .map((line) => line.split("\t").map((c) => c.trim()))
    .filter((cols) => cols.length === 4 && ["profile", "gateway", "alias"].includes(cols[1]))
    .map(([name, type, data, state]) => ({ name, type: type as SofiaStatusRow["type"], data, state }));
}

/** The state of gateway `gateway` (any profile) in `sofia status`, if listed. */
export async function gatewayState(stack: FreeswitchContainer, gateway: string): Promise<string | undefined> {
  return (await sofiaStatus(stack)).find((r) => r.type === "gateway" && r.name.endsWith(`::${gateway}`))?.state;
}
