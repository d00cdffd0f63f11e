/**
 * The directory documents the config API serves mod_xml_curl, as sip/ offers them to the API,
 * bin/ and components/: rendered by render/gateways.ts, with the error the XML writer throws on a
 * value FreeSWITCH must never load. Code outside sip/ reaches render/ only through sip/'s own
 * modules (.dependency-cruiser.cjs), so render/ can change its files without breaking a caller.
 */
export {
  activeGatewaySpecs,
  gatewayKey,
  gatewaySpecFromTrunk,
  renderGatewaysDirectory,
  renderNotFound,
  renderUserDirectory,
  sofiaCallerIdName,
} from "./render/gateways";
export { UnsafeXmlValueError } from "./render/xml";
