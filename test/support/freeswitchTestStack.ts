/**
 * The real-FreeSWITCH suite's test stack (test/freeswitch/Pulumi.fstest.yaml): production's with
 * every provider address replaced by a documentation address, loaded with a test's changes. Before
 * FreeSWITCH starts, the rendered tree and the trunk set must name no address outside loopback and
 * the documentation ranges (assertOnlyTestAddresses).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ipaddr from "ipaddr.js";
import { parse } from "yaml";
import { loadStack, type ConfigSource, type LoadedStack } from "../../sip/config";
import type { GatewaySpec } from "../../sip/apiContract";
import type { RenderedFile } from "../../sip/renderedFile";
import { CONFIG_NAMESPACE } from "../../sip/problems";
import { PROJECT_DIR } from "./environment";

export const TEST_STACK = "fstest";
export const TEST_STACK_FILE = join(PROJECT_DIR, "test", "freeswitch", `Pulumi.${TEST_STACK}.yaml`);

/** The trunk password the test stack is given (what `pulumi config set --secret` would hold). */
export const TRUNK_PASSWORDS = { oneandone: "fsimg-1und1-secret-4b7e" } as const;

/** The test stack's `telephony:*` values by key (without namespace). */
export function testStackConfig(): Record<string, any> {
  const doc = parse(readFileSync(TEST_STACK_FILE, "utf8")) as { config: Record<string, unknown> };
  const raw: Record<string, any> = {};
  for (const [key, value] of Object.entries(doc.config))
    if (key.startsWith(`${CONFIG_NAMESPACE}:`)) raw[key.slice(CONFIG_NAMESPACE.length + 1)] = value;
  return raw;
}

export function loadTestStack(
  mutate?: (config: Record<string, any>) => void,
  trunkPasswords: Readonly<Record<string, string>> = TRUNK_PASSWORDS,
): LoadedStack {
  const raw = testStackConfig();
  mutate?.(raw);
  // The stack's image choice is the default (packages, with a token): the harness runs FREESWITCH_IMAGE
  // instead, and nothing it renders depends on the image.
  const source: ConfigSource = {
    stack: TEST_STACK,
    get: (key) => raw[key],
    getSecret: () => ({ trunkPasswords: { ...trunkPasswords }, signalwireToken: "not-used-by-the-harness" }),
  };
  return loadStack(source);
}

const ALLOWED_RANGES = [
  "127.0.0.0/8",
  "::1/128",
  "192.0.2.0/24",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "2001:db8::/32",
].map((c) => ipaddr.parseCIDR(c));

/** Every IP literal in `text` that is neither loopback, unspecified nor in a documentation range. */
export function foreignAddresses(text: string): string[] {
  const candidates =
    text.match(
      /(?<![\w.:])(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7})(?:\/\d{1,3})?(?![\w.:])/g,
    ) ?? [];
  const foreign: string[] = [];
  for (const candidate of candidates) {
    const [addressText, prefix] = candidate.split("/");
    if (!ipaddr.isValid(addressText)) continue;
    const address = ipaddr.parse(addressText);
    if (address.range() === "unspecified" && (prefix === undefined || prefix === "0")) continue;
    if (ALLOWED_RANGES.some(([net, bits]) => net.kind() === address.kind() && address.match(net, bits))) continue;
    foreign.push(candidate);
  }
  return foreign;
}

/** Fails loudly when the rendered tree or the trunk set could send FreeSWITCH anywhere but the test network. */
export function assertOnlyTestAddresses(files: readonly RenderedFile[], trunks: readonly GatewaySpec[]): void {
  const found = [
    ...files.map((f) => ({ where: f.path, text: f.content })),
    { where: "trunk set PUT to the config API", text: JSON.stringify(trunks) },
  ].flatMap(({ where, text }) => foreignAddresses(text).map((a) => `${where}: ${a}`));
  if (found.length > 0) {
    throw new Error(
      `REFUSING TO START FREESWITCH: the test stack names addresses outside loopback and the documentation ranges:\n  ${found.join("\n  ")}\nOverride them in ${TEST_STACK_FILE}.`,
    );
  }
}
