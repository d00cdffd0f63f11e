/**
 * What the config API will serve FreeSWITCH for a stack, rendered offline: the gateway document
 * of each profile and each extension's user document, exactly as the API builds them (its own
 * DirectoryAnswers, fed the same trunk and extension sets the deploy PUTs), secrets masked.
 * These documents live only inside the running API, so without this a reviewer could not see a
 * change to `register`, `realm`, `caller-id-in-from` or a proxy in `npm start` or `npm run diff`.
 */
import { DirectoryAnswers } from "../api/directory";
import { apiSettings, MASK } from "../sip/bundle";
import { extensionRecords } from "../sip/deploy";
import type { StackModel } from "../sip/model";
import { activeGatewaySpecs } from "../sip/directory";
import type { HostAddresses } from "../sip/renderedFile";

/** Where under out/<stack>/ the documents go: not a host path, the API holds them in memory. */
export const SERVED_DIR = "config-api";

export interface ServedDocument {
  /** Relative to out/<stack>/, e.g. "config-api/gateways/internal.xml". */
  readonly path: string;
  readonly content: string;
  /** Gateway documents: the profile, and the gateways in it. */
  readonly profile?: string;
  readonly gateways?: readonly string[];
}

export function servedDocuments(model: StackModel, addresses: HostAddresses): ServedDocument[] {
  const settings = apiSettings(model, addresses);
  const passwords = Object.fromEntries(model.trunks.filter((t) => t.register).map((t) => [t.name, MASK]));
  const trunks = activeGatewaySpecs(model, passwords);
  const credentials = Object.fromEntries(model.extensions.map((e) => [e.id, { password: MASK }]));
  const extensions = extensionRecords(model, credentials).map((e) => ({ ...e, permissions: [...e.permissions] }));
  const answers = new DirectoryAnswers(
    settings.domain,
    settings.profiles,
    settings.directoryCacheSeconds * 1000,
  ).render(trunks, extensions);
  return [
    ...settings.profiles.map((profile) => ({
      path: `${SERVED_DIR}/gateways/${profile}.xml`,
      content: answers.gateways.get(profile)!.toString("utf8"),
      profile,
      gateways: trunks
        .filter((t) => t.profile === profile)
        .map((t) => t.name)
        .sort(),
    })),
    ...extensions.map((e) => ({
      path: `${SERVED_DIR}/users/${e.id}.xml`,
      content: answers.users.get(e.id)!.toString("utf8"),
    })),
  ];
}
