/** Trunks and extensions shaped like the production stack's (Plusnet on IPv4, 1&1 on IPv6). */
import type { ExtensionRecord, GatewaySpec } from "../../sip/apiContract";

export const plusnet: GatewaySpec = {
  name: "plusnet",
  profile: "external-ipv4",
  proxy: "sip.plusnet.de",
  outboundProxy: "92.197.176.16",
  register: false,
  username: "+493455667290",
  fromUser: "+493455667290",
  callerIdInFrom: false,
  expireSeconds: 600,
  retrySeconds: 30,
  context: "public",
};

export const einsUndEins: GatewaySpec = {
  name: "einsundeins",
  profile: "internal",
  proxy: "sip.1und1.de",
  outboundProxy: "[2001:8d8:104:100:212:227:124:129]",
  realm: "sip.1und1.de",
  register: true,
  username: "4934556643378",
  password: "trunk-secret-1und1",
  expireSeconds: 600,
  retrySeconds: 30,
  context: "public",
};

export const alice: ExtensionRecord = {
  id: "1001",
  password: "alice-sip-secret",
  displayName: "Alice",
  outboundCallerId: "+4934556643378",
  context: "default",
  permissions: ["sip:credentials:read"],
};

export const bob: ExtensionRecord = {
  id: "1002",
  password: "bob-sip-secret",
  displayName: "Bob",
  context: "default",
  permissions: [],
};
