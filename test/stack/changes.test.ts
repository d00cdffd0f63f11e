/**
 * What each kind of change touches, on Pulumi's mock runtime: for each change, the resources whose
 * inputs change, which of those the provider replaces (and why), and that nothing else moves.
 * A trunk or ACL change must replace no container and no server: containers' inputs carry no
 * rendered content or its hash.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { reveal, TYPES, type RegisteredResource } from "../support/pulumiMocks";
import { buildStack, prodConfig, TEST_SECRETS } from "../support/mockedStack";

const COPY = "command:remote:CopyToRemote";

/**
 * Inputs whose change makes the provider replace the resource (the rest update in place).
 * hcloud servers: user data, image, location and SSH keys are force-new; a server type change is
 * an in-place resize (the server powers off, so every call drops — see the table below).
 */
const REPLACING_INPUTS: Record<string, readonly string[]> = {
  [TYPES.server]: ["userData", "image", "location", "sshKeys", "name"],
  [TYPES.primaryIp]: ["type", "location", "datacenter"],
  [TYPES.firewall]: [],
};

/** @pulumi/command: a command with an `update` script is updated; without one, any change replaces it. */
function effect(r: RegisteredResource, changed: readonly string[]): "replace" | "update" {
  if (r.type === TYPES.command) return r.inputs.update ? "update" : "replace";
  if (r.type === COPY) return "replace";
  return changed.some((k) => (REPLACING_INPUTS[r.type] ?? []).includes(k)) ? "replace" : "update";
}

type Snapshot = Map<string, RegisteredResource>;
const key = (r: RegisteredResource) => r.name;

async function snapshot(config: Record<string, any>): Promise<Snapshot> {
  const { run } = await buildStack("prod", config);
  return new Map(run.resources.filter((r) => r.custom).map((r) => [key(r), r]));
}

interface Change {
  readonly resource: string;
  readonly inputs: string[];
  readonly effect: "replace" | "update";
}

function diff(before: Snapshot, after: Snapshot): Change[] {
  const changes: Change[] = [];
  for (const [name, r] of after) {
    const old = before.get(name);
    if (!old) {
      changes.push({ resource: name, inputs: ["(new)"], effect: "replace" });
      continue;
    }
    const a = reveal(old.inputs);
    const b = reveal(r.inputs);
    const inputs = [...new Set([...Object.keys(a), ...Object.keys(b)])]
      .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
      .sort();
    if (inputs.length) changes.push({ resource: name, inputs, effect: effect(r, inputs) });
  }
  return changes.sort((x, y) => (x.resource < y.resource ? -1 : 1));
}

/** A third profile without trunks, so its ext-rtp-ip can change while every check still passes. */
const withLab = (family: "ipv4" | "ipv6") => (c: Record<string, any>) => {
  // Dual either way (its IPv4 twin keeps IPv4 media): only the profile's own ext-rtp-ip moves.
  c["telephony:profiles"].lab = {
    bind: "dual",
    mediaFamily: family,
    sipPort: 5070,
    context: "default",
    authCalls: true,
  };
};

/** The verification re-runs after every change (its triggers hash every pushed group). */
const VERIFY: Change = { resource: "verify-sofia-status", inputs: ["triggers"], effect: "update" };

const CASES: {
  readonly name: string;
  readonly base?: (c: Record<string, any>) => void;
  readonly change: (c: Record<string, any>) => void;
  readonly expected: readonly Change[];
}[] = [
  {
    name: "add a trunk",
    change: (c) => {
      c["telephony:trunks"].twilio = {
        preset: "twilio",
        proxy: "example.pstn.twilio.com",
        outboundProxy: "example.pstn.frankfurt.twilio.com",
      };
    },
    expected: [
      { resource: "config-api-sync-trunks", inputs: ["stdin"], effect: "update" },
      { resource: "files-acl", inputs: ["stdin"], effect: "update" },
      // fail2ban's ignoreip lists every trunk range.
      { resource: "files-fail2ban", inputs: ["stdin"], effect: "update" },
      { resource: "files-host-firewall", inputs: ["stdin"], effect: "update" },
      { resource: "firewall-firewall", inputs: ["rules"], effect: "update" },
      // The verification now also waits for the new trunk.
      { resource: "verify-sofia-status", inputs: ["stdin", "triggers"], effect: "update" },
    ],
  },
  {
    name: "change a trunk password",
    change: (c) => {
      c["telephony:secrets"] = { ...TEST_SECRETS, trunkPasswords: { oneandone: "a-new-password-2c9e" } };
    },
    expected: [{ resource: "config-api-sync-trunks", inputs: ["stdin"], effect: "update" }, VERIFY],
  },
  {
    name: "change an ACL range",
    change: (c) => {
      c["telephony:trunks"].plusnet.sourceRanges = [
        "92.197.176.0/24",
        "92.197.177.0/24",
        "92.197.182.0/24",
        "92.197.183.0/24",
      ];
    },
    expected: [
      { resource: "files-acl", inputs: ["stdin"], effect: "update" },
      // fail2ban's ignoreip lists every trunk range.
      { resource: "files-fail2ban", inputs: ["stdin"], effect: "update" },
      { resource: "files-host-firewall", inputs: ["stdin"], effect: "update" },
      { resource: "firewall-firewall", inputs: ["rules"], effect: "update" },
      VERIFY,
    ],
  },
  {
    name: "change a profile's ext-rtp-ip",
    base: withLab("ipv4"),
    change: withLab("ipv6"),
    expected: [{ resource: "files-profile-lab", inputs: ["stdin"], effect: "update" }, VERIFY],
  },
  {
    name: "change the RTP range",
    change: (c) => {
      c["telephony:rtp"] = { start: 20000, end: 20200 };
    },
    expected: [
      { resource: "files-freeswitch-restart", inputs: ["stdin"], effect: "update" },
      { resource: "files-host-firewall", inputs: ["stdin"], effect: "update" },
      { resource: "firewall-firewall", inputs: ["rules"], effect: "update" },
      VERIFY,
    ],
  },
  {
    name: "change the FreeSWITCH image",
    change: (c) => {
      c["telephony:freeswitch"].image = `example/freeswitch@sha256:${"ab".repeat(32)}`;
    },
    expected: [
      // The renewal job loads a certificate differently: reloadcert on the packaged 1.11.2, the
      // version the image reports deciding on an image of the operator's.
      { resource: "files-acme", inputs: ["stdin"], effect: "update" },
      // Updated in place by its start script, which drains the running container first; a
      // replacement would run the old state's delete (`docker rm -f`) before anything else.
      { resource: "freeswitch-container", inputs: ["create", "update"], effect: "update" },
      // The drift check keeps the new start script (it only reads the container back).
      { resource: "freeswitch-running", inputs: ["startScript"], effect: "update" },
      VERIFY,
    ],
  },
  {
    name: "change how long restarts wait for calls to end (telephony:maintenance.drainSeconds)",
    change: (c) => {
      c["telephony:maintenance"] = { drainSeconds: 60 };
    },
    // The bound is in every drained restart's command, so each of them runs again (drained).
    expected: [
      // The renewal script restarts the TLS profiles with the new bound.
      { resource: "files-acme", inputs: ["stdin"], effect: "update" },
      ...["freeswitch-restart", "profile-external-ipv4", "profile-internal", "profile-internal-ipv4"].map(
        (g): Change => ({ resource: `files-${g}`, inputs: ["create", "update"], effect: "update" }),
      ),
      { resource: "freeswitch-container", inputs: ["create", "update"], effect: "update" },
      { resource: "freeswitch-running", inputs: ["startScript"], effect: "update" },
      VERIFY,
    ],
  },
  {
    name: "change the server's image (replaces the server)",
    change: (c) => {
      c["telephony:host"].image = "debian-13";
    },
    // A new server starts empty: every step on the host runs again, and says so.
    expected: [
      { resource: "config-api-container", inputs: ["triggers"], effect: "replace" },
      { resource: "config-api-context", inputs: ["triggers"], effect: "replace" },
      { resource: "config-api-image", inputs: ["triggers"], effect: "replace" },
      { resource: "config-api-sync-extensions", inputs: ["triggers"], effect: "update" },
      { resource: "config-api-sync-trunks", inputs: ["triggers"], effect: "update" },
      ...[
        "acl",
        "acme",
        "api-restart",
        "dialplan",
        "fail2ban",
        "freeswitch-restart",
        "host-firewall",
        "host-maintenance",
        "profile-external-ipv4",
        "profile-internal",
        "profile-internal-ipv4",
      ].map((g): Change => ({ resource: `files-${g}`, inputs: ["triggers"], effect: "update" })),
      // Its start script (an update script too) runs on the new server; there is no container to drain.
      { resource: "freeswitch-container", inputs: ["triggers"], effect: "update" },
      { resource: "freeswitch-image-build", inputs: ["triggers"], effect: "replace" },
      { resource: "host-authorized-keys", inputs: ["triggers"], effect: "replace" },
      { resource: "host-cloud-init", inputs: ["triggers"], effect: "replace" },
      { resource: "host-server", inputs: ["image"], effect: "replace" },
      { resource: "tls-first-issue", inputs: ["triggers"], effect: "replace" },
      VERIFY,
    ],
  },
  {
    name: "rotate the Fernet key (telephony:rotation.apiStoreEncryption)",
    change: (c) => {
      c["telephony:rotation"] = { apiStoreEncryption: 1 };
    },
    // A new key beside the old one; the API restarts with both and re-seals its store. No call drops.
    expected: [
      { resource: "files-api-restart", inputs: ["stdin"], effect: "update" },
      { resource: "secrets-fernet-key-1", inputs: ["(new)"], effect: "replace" },
      VERIFY,
    ],
  },
  {
    name: "change the server type",
    change: (c) => {
      c["telephony:host"].serverType = "cx32";
    },
    expected: [{ resource: "host-server", inputs: ["serverType"], effect: "update" }],
  },
];

describe("what each change touches", () => {
  const results = new Map<string, Change[]>();

  beforeAll(async () => {
    for (const c of CASES) {
      const before = await snapshot(prodConfig(c.base));
      const after = await snapshot(
        prodConfig((config) => {
          c.base?.(config);
          c.change(config);
        }),
      );
      results.set(c.name, diff(before, after));
    }
  }, 120_000);

  for (const c of CASES) {
    it(`${c.name}: changes exactly the expected resources, replacing only where stated`, () => {
      expect(results.get(c.name)).toEqual(c.expected);
    });
  }

  it("replaces no container and no server for a trunk or ACL change", () => {
    for (const name of ["add a trunk", "change a trunk password", "change an ACL range"]) {
      const touched = results.get(name)!.map((ch) => ch.resource);
      expect(touched.filter((r) => /container|image|context/.test(r))).toEqual([]);
      expect(results.get(name)!.filter((ch) => ch.effect === "replace")).toEqual([]);
    }
  });
});
