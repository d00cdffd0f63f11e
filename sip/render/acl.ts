/** autoload_configs/acl.conf.xml: FreeSWITCH's own allow-list, the third firewall layer. */
import type { StackModel } from "../model";
import { configurationFile } from "./xml";

/** The ACL every profile applies to inbound SIP: the trunks' source ranges, default deny. */
export const ACL_GATEWAYS = "sip-gateways";

export function renderAcl(model: StackModel): string {
  return configurationFile("acl.conf", "Network lists", (root) => {
    const lists = root.ele("network-lists");
    const gateways = lists.ele("list", { name: ACL_GATEWAYS, default: "deny" });
    // Active trunks only, like the cloud firewall and UFW (sip/firewall.ts inboundRules).
    for (const trunk of model.trunks.filter((t) => t.active)) {
      gateways.com(` ${trunk.name} `);
      for (const cidr of trunk.sourceRanges) gateways.ele("node", { type: "allow", cidr });
    }
  });
}
