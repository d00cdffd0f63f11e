/**
 * Declarative set changes and the smallest Sofia reload that applies a trunk change:
 * `rescan` adds new gateways but leaves existing ones as they are, so a changed or removed
 * gateway is first killed (`killgw`) on the profile it ran on, then every affected profile is
 * rescanned once. Gateway names are unique across profiles, so `killgw <name>` is unambiguous.
 */
import type { GatewaySpec } from "../sip/apiContract";
import { gatewayKey } from "../sip/directory";

export interface SetChange {
  readonly added: string[];
  readonly changed: string[];
  readonly removed: string[];
  readonly unchanged: string[];
}

/** Compares two sets of named items; `same` decides whether an item kept its meaning. */
export function diffSets<T>(
  before: readonly T[],
  after: readonly T[],
  nameOf: (t: T) => string,
  same: (a: T, b: T) => boolean,
): SetChange {
  const old = new Map(before.map((t) => [nameOf(t), t]));
  const next = new Map(after.map((t) => [nameOf(t), t]));
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const added: string[] = [];
  const changed: string[] = [];
  const unchanged: string[] = [];
  for (const [name, item] of next) {
    const was = old.get(name);
    if (was === undefined) added.push(name);
    else (same(was, item) ? unchanged : changed).push(name);
  }
  const removed = [...old.keys()].filter((name) => !next.has(name));
  return {
    added: added.sort(byName),
    changed: changed.sort(byName),
    removed: removed.sort(byName),
    unchanged: unchanged.sort(byName),
  };
}

/** Same Sofia gateway: same parameters on the same profile (gatewayKey does not include the profile). */
export const sameGateway = (a: GatewaySpec, b: GatewaySpec) =>
  a.profile === b.profile && gatewayKey(a) === gatewayKey(b);

export interface TrunkChange extends SetChange {
  /** ESL `api` commands in the order they must run; empty when nothing changed. */
  readonly commands: string[];
}

export const killgw = (profile: string, gateway: string) => `sofia profile ${profile} killgw ${gateway}`;
export const rescan = (profile: string) => `sofia profile ${profile} rescan`;
export const isKill = (command: string) => command.includes(" killgw ");
const profileOf = (command: string) => command.split(" ")[2];

/**
 * `commands` preceded by the kills still pending from earlier (refused or never answered), and
 * followed by a rescan of every profile concerned: a replayed kill without its rescan would leave
 * the gateway dead.
 */
export function withPendingKills(commands: readonly string[], pending: readonly string[]): string[] {
  const replay = pending.filter((kill) => !commands.includes(kill));
  if (replay.length === 0) return [...commands];
  const profiles = new Set([...replay, ...commands.filter((c) => !isKill(c))].map(profileOf));
  return [...replay, ...commands.filter(isKill), ...[...profiles].sort().map(rescan)];
}

export function planTrunkChange(before: readonly GatewaySpec[], after: readonly GatewaySpec[]): TrunkChange {
  const change = diffSets(before, after, (g) => g.name, sameGateway);
  const old = new Map(before.map((g) => [g.name, g]));
  const next = new Map(after.map((g) => [g.name, g]));
  const kills: string[] = [];
  const profiles = new Set<string>();
  for (const name of [...change.changed, ...change.removed]) {
    // A gateway that moved profile runs on its old one until killed there.
    const was = old.get(name)!;
    kills.push(killgw(was.profile, name));
    profiles.add(was.profile);
  }
  for (const name of [...change.added, ...change.changed]) profiles.add(next.get(name)!.profile);
  return { ...change, commands: [...kills, ...[...profiles].sort().map(rescan)] };
}
