/**
 * Pulumi's mock runtime for component and stack tests (the shape of sst's platform/test/components):
 * mocks are set, config is set, then the code under test runs; outputs are turned into awaited
 * promises with promiseOf, never asserted inside an apply. "Transforms do not run under mocks",
 * so nothing here relies on them: resource options are read from the registration requests.
 */
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";

/** The wire marker Pulumi uses for secret values in resource inputs. */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface RegisteredResource {
  readonly type: string;
  readonly name: string;
  /** Inputs as the engine receives them; secret values stay wrapped (see isSecretValue). */
  readonly inputs: Record<string, any>;
  readonly id: string;
  readonly state: Record<string, any>;
  readonly custom: boolean;
  /** Resource options, from the registration request. */
  readonly protect: boolean;
  readonly deleteBeforeReplace: boolean;
  readonly ignoreChanges: readonly string[];
  readonly importId: string;
  readonly parent: string;
  readonly dependencies: readonly string[];
  /** The explicit provider reference ("<urn>::<id>"), or "" for the default provider. */
  readonly provider: string;
}

export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}

export function isSecretValue(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** The value inside a secret wrapper, recursively. */
export function reveal(value: any): any {
  if (isSecretValue(value)) return reveal(value.value);
  if (Array.isArray(value)) return value.map(reveal);
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reveal(v)]));
  return value;
}

/** Resolves every Output inside a plain object, deeply. */
export async function resolveDeep(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) return resolveDeep(await promiseOf(value));
  if (Array.isArray(value)) return Promise.all(value.map(resolveDeep));
  if (value && typeof value === "object" && !pulumi.Resource.isInstance(value)) {
    const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolveDeep(v)] as const));
    return Object.fromEntries(entries);
  }
  return value;
}

/**
 * A stable number per stack and resource: a resource keeps its ID and address when a config change
 * re-runs the program (as a real, unreplaced resource does), and another stack gets other ones.
 */
function stableNumber(...parts: string[]): number {
  let h = 2166136261;
  for (const ch of parts.join("/")) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return 1 + (h % 40_000);
}

/** Deterministic provider answers: what Hetzner, tls and random would return, with test values. */
function mockResource(
  stack: string,
  args: pulumi.runtime.MockResourceArgs,
): { id: string; state: Record<string, any> } {
  const n = stableNumber(stack, args.type, args.name);
  const inputs = args.inputs as Record<string, any>;
  switch (args.type) {
    case "hcloud:index/primaryIp:PrimaryIp": {
      const id = args.id || String(10_000 + n);
      // Documentation ranges: 198.18.0.0/15 (RFC 2544) and 2001:db8::/32.
      if (inputs.type === "ipv4")
        return { id, state: { ...inputs, ipAddress: `198.18.${(n >> 8) & 255}.${n & 255 || 1}`, ipNetwork: "" } };
      // As the provider reports a primary IPv6: ip_address is the network address, ip_network the /64.
      const network = `2001:db8:${n.toString(16)}:5678::`;
      return { id, state: { ...inputs, ipAddress: network, ipNetwork: `${network}/64` } };
    }
    case "hcloud:index/server:Server": {
      // A change to an input that replaces a server (image, location) yields a new server ID, as it would.
      const id = String(
        20_000 + stableNumber(stack, args.type, args.name, String(inputs.image), String(inputs.location)),
      );
      // A server on Hetzner's own addresses (no primary IP given) gets one of them, from a documentation range.
      const ownAddress = inputs.publicNets?.[0] && inputs.publicNets[0].ipv4 === undefined;
      return {
        id,
        state: { ...inputs, status: "running", ...(ownAddress ? { ipv4Address: `198.51.100.${(n % 250) + 2}` } : {}) },
      };
    }
    case "hcloud:index/floatingIp:FloatingIp": {
      const id = String(40_000 + n);
      // Documentation ranges, as Hetzner reports a floating IP: the IPv6 one as its /64.
      if (inputs.type === "ipv4") return { id, state: { ...inputs, ipAddress: `203.0.113.${(n % 250) + 2}` } };
      const network = `2001:db8:f${(n % 4096).toString(16)}::`;
      return { id, state: { ...inputs, ipAddress: network, ipNetwork: `${network}/64` } };
    }
    case "hcloud:index/placementGroup:PlacementGroup":
    case "hcloud:index/network:Network":
    case "hcloud:index/serverNetwork:ServerNetwork":
      return { id: String(50_000 + n), state: { ...inputs } };
    case "hcloud:index/networkSubnet:NetworkSubnet":
      // The provider's subnet ID: "<network ID>-<ip range>".
      return { id: `${inputs.networkId}-${inputs.ipRange}`, state: { ...inputs } };
    case "hcloud:index/firewall:Firewall":
    case "hcloud:index/sshKey:SshKey":
    case "hcloud:index/rdns:Rdns":
      return { id: String(30_000 + n), state: { ...inputs } };
    case "tls:index/privateKey:PrivateKey": {
      const tag = Buffer.from(`${stack}/${args.name}`).toString("base64").replace(/=/g, "");
      return {
        id: `${args.name}-id`,
        state: {
          ...inputs,
          publicKeyOpenssh: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5${tag}\n`,
          privateKeyOpenssh: `-----BEGIN OPENSSH PRIVATE KEY-----\nMOCK${tag}\n-----END OPENSSH PRIVATE KEY-----\n`,
          privateKeyPem: `-----BEGIN PRIVATE KEY-----\nMOCK${tag}\n-----END PRIVATE KEY-----\n`,
        },
      };
    }
    case "tls:index/selfSignedCert:SelfSignedCert":
      return {
        id: `${args.name}-id`,
        state: { ...inputs, certPem: `-----BEGIN CERTIFICATE-----\nMOCKCERT${stack}\n-----END CERTIFICATE-----\n` },
      };
    case "random:index/randomPassword:RandomPassword":
      return {
        id: `${args.name}-id`,
        state: { ...inputs, result: `mockpw${stack}${args.name.replace(/[^A-Za-z0-9]/g, "")}` },
      };
    case "random:index/randomBytes:RandomBytes": {
      // 0xfb 0xff 0xbf encodes to "+/+/": the URL-safe conversion is visible. The rest is derived
      // from the stack and resource name, so two generations of a key differ, and each is the same
      // in every run (as in a real stack's state).
      const bytes = Buffer.alloc(inputs.length ?? 32, 0);
      createHash("sha256").update(`${stack}/${args.name}`).digest().copy(bytes, 3);
      bytes.set([0xfb, 0xff, 0xbf].slice(0, bytes.length));
      return {
        id: `${args.name}-id`,
        state: { ...inputs, base64: bytes.toString("base64"), hex: bytes.toString("hex") },
      };
    }
    case "command:remote:Command":
      return { id: `${args.name}-id`, state: { ...inputs, stdout: "", stderr: "" } };
    default:
      return { id: args.custom ? `${args.name}-id` : "", state: { ...inputs } };
  }
}

export interface MockRun {
  readonly resources: RegisteredResource[];
  /** Resources of one type token, e.g. "hcloud:index/server:Server". */
  ofType(type: string): RegisteredResource[];
  one(type: string): RegisteredResource;
  /** Waits until every registration has been answered. */
  settle(): Promise<void>;
}

type Options = Pick<
  RegisteredResource,
  "protect" | "deleteBeforeReplace" | "ignoreChanges" | "importId" | "parent" | "dependencies"
>;

/**
 * Sets the mocks for one project/stack and the stack's config (`telephony:host` etc.; objects are
 * passed as JSON, as the engine does). Secret keys are marked secret.
 */
export async function startMockRun(opts: {
  stack: string;
  project?: string;
  config: Record<string, unknown>;
  secretKeys?: readonly string[];
}): Promise<MockRun> {
  const { stack, project = "telephony" } = opts;
  const registered: { args: pulumi.runtime.MockResourceArgs; result: { id: string; state: Record<string, any> } }[] =
    [];
  const options = new Map<string, Options>();

  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const result = mockResource(stack, args);
        registered.push({ args, result });
        return result;
      },
      call(args) {
        // The public half of a configured private key (components/existingHost.ts).
        if (args.token === "tls:index/getPublicKey:getPublicKey") {
          const tag = Buffer.from(String(args.inputs.privateKeyOpenssh ?? ""))
            .toString("base64")
            .replace(/=/g, "")
            .slice(-24);
          return { ...args.inputs, publicKeyOpenssh: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5${tag}\n` };
        }
        return args.inputs;
      },
    },
    project,
    stack,
    false,
  );

  // Resource options never reach the mocks; read them from the registration request instead.
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: any, cb: unknown): unknown };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, cb: unknown) => {
    options.set(`${req.getType()}::${req.getName()}`, {
      protect: req.getProtect?.() ?? false,
      deleteBeforeReplace: req.getDeletebeforereplace(),
      ignoreChanges: req.getIgnorechangesList(),
      importId: req.getImportid(),
      parent: req.getParent(),
      dependencies: req.getDependenciesList(),
    });
    return register(req, cb);
  };

  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(opts.config)) {
    if (value !== undefined) config[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  pulumi.runtime.setAllConfig(config, [...(opts.secretKeys ?? [])]);

  const resources = (): RegisteredResource[] =>
    registered.map(({ args, result }) => ({
      type: args.type,
      name: args.name,
      inputs: args.inputs,
      id: result.id,
      state: result.state,
      custom: args.custom ?? false,
      provider: args.provider ?? "",
      ...(options.get(`${args.type}::${args.name}`) ?? {
        protect: false,
        deleteBeforeReplace: false,
        ignoreChanges: [],
        importId: "",
        parent: "",
        dependencies: [],
      }),
    }));

  return {
    get resources() {
      return resources();
    },
    ofType: (type) => resources().filter((r) => r.type === type),
    one(type) {
      const found = resources().filter((r) => r.type === type);
      if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
      return found[0];
    },
    async settle() {
      const wait = (pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs;
      if (wait) await wait();
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      if (wait) await wait();
    },
  };
}

export const TYPES = {
  primaryIp: "hcloud:index/primaryIp:PrimaryIp",
  server: "hcloud:index/server:Server",
  firewall: "hcloud:index/firewall:Firewall",
  sshKey: "hcloud:index/sshKey:SshKey",
  rdns: "hcloud:index/rdns:Rdns",
  floatingIp: "hcloud:index/floatingIp:FloatingIp",
  placementGroup: "hcloud:index/placementGroup:PlacementGroup",
  network: "hcloud:index/network:Network",
  networkSubnet: "hcloud:index/networkSubnet:NetworkSubnet",
  serverNetwork: "hcloud:index/serverNetwork:ServerNetwork",
  rrset: "hcloud:index/zoneRrset:ZoneRrset",
  command: "command:remote:Command",
  privateKey: "tls:index/privateKey:PrivateKey",
  selfSignedCert: "tls:index/selfSignedCert:SelfSignedCert",
  copy: "command:remote:CopyToRemote",
  password: "random:index/randomPassword:RandomPassword",
  bytes: "random:index/randomBytes:RandomBytes",
} as const;
