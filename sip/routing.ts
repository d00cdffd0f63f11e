/**
 * Which trunk an extension calls out through: the one that owns the caller ID it presents.
 * A provider accepts (and a callee sees) only a number the provider has assigned to that
 * account, so the number decides the trunk, not a stack-wide default.
 */
import type { StackModel, Trunk } from "./model";

/** The trunk a number belongs to: the trunk `numbers[]` lists it on, else the trunk whose callerId it is. */
export function trunkOwning(model: Pick<StackModel, "numbers" | "trunks">, number: string): Trunk | undefined {
  const listed = model.numbers.find((n) => n.number === number);
  if (listed) return model.trunks.find((t) => t.name === listed.trunk);
  return model.trunks.find((t) => t.callerId === number);
}

export interface OutboundRoute {
  /** The caller ID presented; undefined on the fallback route when its trunk has none. */
  readonly callerId: string | undefined;
  readonly trunk: Trunk;
  /** The route for extensions whose own caller ID has no active trunk (freeswitch.outboundTrunk). */
  readonly fallback: boolean;
}

/**
 * One route per caller ID in use by an extension, through the trunk that owns it, then the
 * fallback. A caller ID whose trunk is not active in this stack (a REGISTER trunk in a clone)
 * gets no route of its own: those extensions take the fallback, presenting its number.
 */
export function outboundRoutes(model: StackModel): OutboundRoute[] {
  const callerIds = [
    ...new Set(model.extensions.flatMap((e) => (e.outboundCallerId ? [e.outboundCallerId] : []))),
  ].sort();
  const routes: OutboundRoute[] = [];
  for (const callerId of callerIds) {
    const trunk = trunkOwning(model, callerId);
    if (trunk?.active) routes.push({ callerId, trunk, fallback: false });
  }
  const fallback = model.trunks.find((t) => t.name === model.freeswitch.outboundTrunk && t.active);
  if (fallback)
    routes.push({
      callerId: fallback.callerId ?? model.numbers.find((n) => n.trunk === fallback.name)?.number,
      trunk: fallback,
      fallback: true,
    });
  return routes;
}
