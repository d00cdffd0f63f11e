/**
 * Hetzner replaces a server whose user data, image, location or SSH keys change. Everything that
 * evolves (UFW rules, ACL ranges, FreeSWITCH files) is pushed over SSH, so changing it must leave
 * those inputs exactly as they were.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { renderCloudInit } from "../../sip/bootstrap";
import { promiseOf, TYPES } from "../support/pulumiMocks";
import { buildStack, prodConfig, type StackRun } from "../support/mockedStack";

/** The server inputs that force a replacement (serverType resizes in place but is checked too). */
const REPLACING = ["userData", "image", "location", "sshKeys", "serverType", "name"] as const;

const serverInputs = (run: StackRun) => {
  const inputs = run.run.one(TYPES.server).inputs;
  return Object.fromEntries(REPLACING.map((k) => [k, inputs[k]]));
};
const file = async (run: StackRun, suffix: string) =>
  promiseOf(run.telephony.files.find((f) => f.path.endsWith(suffix))!.content);

let baseline: StackRun;
beforeAll(async () => {
  baseline = await buildStack("prod", prodConfig());
});

const changes: [string, (config: Record<string, any>) => void, string][] = [
  [
    "an admin SSH range is added (UFW rules)",
    (c) => c["telephony:host"].adminSshRanges.push("203.0.113.0/24"),
    "/host/ufw.sh",
  ],
  [
    "an extra UDP range changes (UFW rules)",
    (c) => (c["telephony:firewall"].extraUdpRanges[0].end = 10080),
    "/host/ufw.sh",
  ],
  [
    "a trunk's source range is added (ACL)",
    (c) =>
      (c["telephony:trunks"].plusnet.sourceRanges = [
        "92.197.176.0/24",
        "92.197.177.0/24",
        "92.197.182.0/24",
        "92.197.183.0/24",
      ]),
    "/autoload_configs/acl.conf.xml",
  ],
  [
    "an admin SSH key is added",
    (c) =>
      c["telephony:host"].sshPublicKeys.push(
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAnotherAdminKeyForRotationTestAAAAAAAAAAAA ops2@example",
      ),
    "",
  ],
];

describe.each(changes)("when %s", (_, mutate, changedFile) => {
  let changed: StackRun;
  beforeAll(async () => {
    changed = await buildStack("prod", prodConfig(mutate));
  });

  it("the rendered host file really changes", async () => {
    if (!changedFile) return;
    expect(await file(changed, changedFile)).not.toBe(await file(baseline, changedFile));
  });

  it("the server's replacement-forcing inputs stay the same", () => {
    expect(serverInputs(changed)).toEqual(serverInputs(baseline));
  });

  it("the firewall keeps its name and labels", () => {
    const identity = (run: StackRun) => {
      const { name, labels } = run.run.one(TYPES.firewall).inputs;
      return { name, labels };
    };
    expect(identity(changed)).toEqual(identity(baseline));
  });
});

describe("the server", () => {
  it("boots from the config-free bootstrap", () => {
    expect(baseline.run.one(TYPES.server).inputs.userData).toBe(renderCloudInit());
  });

  it("ignores later bootstrap edits and is deleted before its replacement is created", () => {
    const server = baseline.run.one(TYPES.server);
    expect(server.ignoreChanges).toEqual(["userData"]);
    expect(server.deleteBeforeReplace).toBe(true);
  });

  it("gets admin key changes over SSH, not from Hetzner", async () => {
    const withKey = await buildStack("prod", prodConfig(changes[3][1]));
    const stdin = (run: StackRun) =>
      run.run.ofType(TYPES.command).find((c) => c.name === "host-authorized-keys")!.inputs.stdin as string;
    expect(stdin(withKey)).not.toBe(stdin(baseline));
    expect(stdin(withKey)).toContain("ops2@example");
  });
});
