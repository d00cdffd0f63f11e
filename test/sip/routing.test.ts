import { describe, expect, it } from "vitest";
import { buildModel } from "../../sip/stack";
import { renderDefaultDialplan } from "../../sip/render/dialplan";
import { outboundRoutes } from "../../sip/routing";
import { elements, parseXml, type XmlElement } from "../support/xml";
import { PROD_SECRETS, prodModel, prodRawConfig } from "../support/stackConfig";

const conditions = (ext: XmlElement) =>
  elements(ext, "condition").map((c) => [c.getAttribute("field"), c.getAttribute("expression")]);
const actions = (ext: XmlElement) =>
  elements(ext, "action").map((a) => `${a.getAttribute("application")} ${a.getAttribute("data")}`);
const extensionsOf = (xml: string) => elements(parseXml(xml), "extension");

/** The first dialplan extension that matches `caller` (its outbound caller ID) dialling `dialled`, as FreeSWITCH picks it. */
function routeFor(xml: string, callerCallerId: string | undefined, dialled: string): XmlElement | undefined {
  return extensionsOf(xml).find((ext) =>
    conditions(ext).every(([field, expression]) => {
      const value =
        field === "destination_number"
          ? dialled
          : field === "${outbound_caller_id_number}"
            ? (callerCallerId ?? "")
            : undefined;
      return value !== undefined && new RegExp(expression!).test(value);
    }),
  );
}

describe("outbound calls from extensions (default dialplan)", () => {
  const dialplan = renderDefaultDialplan(prodModel());

  it("leave through the trunk that owns the extension's caller ID, presenting that number", () => {
    // 100 presents Plusnet's number, 200 the 1&1 support hotline (prod config).
    expect(actions(routeFor(dialplan, "+493455667290", "+4930123456")!)).toEqual([
      "set effective_caller_id_number=+493455667290",
      "bridge sofia/gateway/plusnet/$1",
    ]);
    expect(actions(routeFor(dialplan, "+493455630488", "+4930123456")!)).toEqual([
      "set effective_caller_id_number=+493455630488",
      "bridge sofia/gateway/oneandone/$1",
    ]);
  });

  it("route the emergency numbers 110 and 112 the same way, dialled as they are", () => {
    for (const emergency of ["110", "112"]) {
      expect(actions(routeFor(dialplan, "+493455630488", emergency)!)).toEqual([
        "set effective_caller_id_number=+493455630488",
        "bridge sofia/gateway/oneandone/$1",
      ]);
      expect(actions(routeFor(dialplan, "+493455667290", emergency)!)).toContain("bridge sofia/gateway/plusnet/$1");
    }
  });

  it("send an extension without a caller ID through freeswitch.outboundTrunk with that trunk's number", () => {
    expect(actions(routeFor(dialplan, undefined, "+4930123456")!)).toEqual([
      "set effective_caller_id_number=+493455667290",
      "bridge sofia/gateway/plusnet/$1",
    ]);
  });

  it("refuse other destinations (404)", () => {
    expect(actions(routeFor(dialplan, "+493455667290", "0900123")!)).toEqual(["respond 404"]);
  });

  it("fall back when the caller ID's trunk is off in this stack (a clone without the REGISTER trunk)", () => {
    // prod's config copied to staging, the host name handed over (the clone check wants that), 1&1 still prod's
    const copied = prodRawConfig();
    copied.host.hostnameOwnedBy = ["staging"];
    const staging = buildModel(copied, { stack: "staging", secretPaths: PROD_SECRETS });
    expect(outboundRoutes(staging).map((r) => `${r.callerId} ${r.trunk.name} ${r.fallback}`)).toEqual([
      "+493455667290 plusnet false",
      "+493455667290 plusnet true",
    ]);
    expect(actions(routeFor(renderDefaultDialplan(staging), "+493455630488", "112")!)).toEqual([
      "set effective_caller_id_number=+493455667290",
      "bridge sofia/gateway/plusnet/$1",
    ]);
  });

  it("have no route at all without a caller-ID trunk or a fallback", () => {
    const raw = prodRawConfig();
    delete raw.freeswitch.outboundTrunk;
    for (const e of Object.values<{ outboundCallerId?: string }>(raw.extensions)) delete e.outboundCallerId;
    const model = buildModel(raw, { stack: "prod", secretPaths: PROD_SECRETS });
    expect(outboundRoutes(model)).toEqual([]);
    expect(actions(routeFor(renderDefaultDialplan(model), undefined, "112")!)).toEqual(["respond 404"]);
  });
});
