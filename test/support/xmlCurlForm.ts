/**
 * What mod_xml_curl posts, for the tests and the bench alike. No imports: the bench type-checks
 * this file on its own.
 */

/** The fields mod_xml_curl always posts, followed by the event headers of a REQUEST_PARAMS event. */
export function xmlCurlForm(fields: Record<string, string>): Record<string, string> {
  return {
    hostname: "fs-test",
    section: "directory",
    tag_name: "",
    key_name: "",
    key_value: "",
    "Event-Name": "REQUEST_PARAMS",
    "Core-UUID": "3f9a7d3e-1d7c-4c39-9a7e-2f1d6f0c9a11",
    "FreeSWITCH-Hostname": "fs-test",
    "FreeSWITCH-Switchname": "fs-test",
    "FreeSWITCH-IPv4": "127.0.0.1",
    "FreeSWITCH-IPv6": "::1",
    "Event-Date-Local": "2025-01-01 00:00:00",
    "Event-Date-GMT": "Wed, 01 Jan 2025 00:00:00 GMT",
    "Event-Date-Timestamp": "1735689600000000",
    "Event-Calling-File": "sofia.c",
    "Event-Calling-Function": "config_sofia",
    "Event-Calling-Line-Number": "4500",
    "Event-Sequence": "42",
    ...fields,
  };
}

/** sofia.c's gateway request for a profile with `<domain name="all" parse="true"/>`. */
export const gatewaysRequest = (profile: string) => xmlCurlForm({ purpose: "gateways", profile });
