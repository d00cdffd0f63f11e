/**
 * The deployment onto the host on Pulumi's mock runtime: what runs in which order, what
 * each container is given, and that secrets reach the host only as Pulumi secrets.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { isSecretValue, promiseOf, reveal, type RegisteredResource } from "../support/pulumiMocks";
import { buildStack, prodConfig, stackFileConfig, TEST_SECRETS, type StackRun } from "../support/mockedStack";
import { FREESWITCH_COMMAND, freeswitchImageName } from "../../sip/freeswitchImage";

let prod: StackRun;
let staging: StackRun;
beforeAll(async () => {
  prod = await buildStack("prod", prodConfig());
  staging = await buildStack("staging", { ...stackFileConfig("staging"), "telephony:secrets": TEST_SECRETS });
}, 60_000);

const command = (run: StackRun, name: string): RegisteredResource => {
  const found = run.run.resources.filter((r) => r.name === name);
  if (found.length !== 1) throw new Error(`expected one resource ${name}, found ${found.length}`);
  return found[0];
};
const urnOf = (r: RegisteredResource) => r.name;
/** Names of the resources `r` was registered as depending on (explicit dependsOn, children included). */
const dependsOn = (run: StackRun, r: RegisteredResource) =>
  run.run.resources.filter((other) => r.dependencies.some((urn) => urn.endsWith(`::${other.name}`))).map(urnOf);

describe("order on the host", () => {
  it("pushes files only after cloud-init has finished", () => {
    expect(dependsOn(prod, command(prod, "files-acl"))).toContain("host-authorized-keys");
  });

  it("starts FreeSWITCH only after its files, the config API and the trunk set are in place", () => {
    const deps = dependsOn(prod, command(prod, "freeswitch-container"));
    expect(deps).toEqual(
      expect.arrayContaining([
        "config-api-container",
        "config-api-sync-trunks",
        "files-freeswitch-restart",
        "files-profile-internal",
        "files-acl",
        "tls-first-issue",
      ]),
    );
  });

  it("creates both long-running containers only after dockerd has its log limits", () => {
    for (const name of ["freeswitch-container", "config-api-container"])
      expect(dependsOn(prod, command(prod, name)), name).toContain("files-host-maintenance");
  });

  it("waits in FreeSWITCH's start command for the API to answer /readyz", () => {
    const create = reveal(command(prod, "freeswitch-container").inputs.create) as string;
    expect(create.indexOf("/readyz")).toBeLessThan(create.indexOf("docker run"));
  });

  it("verifies sofia status last, in production", () => {
    expect(dependsOn(prod, command(prod, "verify-sofia-status"))).toEqual(
      expect.arrayContaining(["freeswitch-container", "config-api-sync-trunks"]),
    );
    expect(staging.run.resources.some((r) => r.name === "verify-sofia-status")).toBe(false);
  });
});

describe("the containers", () => {
  it("run FreeSWITCH on the host network with the packaged image, the stack's command line and the rendered tree read-only", () => {
    const create = reveal(command(prod, "freeswitch-container").inputs.create) as string;
    expect(create).toContain("--network host");
    expect(create).toContain("-v /srv/telephony/freeswitch/conf:/etc/freeswitch:ro");
    expect(create).toMatch(
      new RegExp(
        ` --user 0:0 --entrypoint freeswitch ${freeswitchImageName().replace(/[/.]/g, "\\$&")} -nf -nc -nonat -conf /etc/freeswitch -log /var/log/freeswitch `,
        "m",
      ),
    );
    expect(create.trimEnd().endsWith(FREESWITCH_COMMAND.slice(1).join(" "))).toBe(true);
  });

  it("build the packaged FreeSWITCH image on the host before FreeSWITCH starts, skipped when the tag is there", () => {
    const build = command(prod, "freeswitch-image-build");
    const create = reveal(build.inputs.create) as string;
    const image = freeswitchImageName();
    expect(create).toContain(`if docker image inspect ${image} >/dev/null 2>&1; then`);
    expect(create.indexOf("exit 0")).toBeLessThan(create.indexOf("docker build"));
    expect(create).toContain(
      `DOCKER_BUILDKIT=1 docker build --progress=plain --secret id=signalwire_token,src="$dir/token" -t ${image} `,
    );
    // The Dockerfile is in the command (a preview shows its changes); the token is not.
    expect(create).toContain(
      'apt-get install -y --no-install-recommends freeswitch="$version" freeswitch-mod-console="$version"',
    );
    expect(create).not.toContain(TEST_SECRETS.signalwireToken);
    expect(dependsOn(prod, command(prod, "freeswitch-container"))).toContain("freeswitch-image-build");
  });

  it("hand the SignalWire token to the image build only as its secret stdin", async () => {
    const stdin = command(prod, "freeswitch-image-build").inputs.stdin;
    expect(isSecretValue(stdin)).toBe(true);
    expect(reveal(stdin)).toBe(TEST_SECRETS.signalwireToken);
    expect(JSON.stringify(reveal(command(prod, "freeswitch-image-build").inputs.triggers))).not.toContain(
      TEST_SECRETS.signalwireToken,
    );
  });

  it("build no image when freeswitch.image pins another one by digest", async () => {
    const digest = `example/freeswitch@sha256:${"ab".repeat(32)}`;
    const pinned = await buildStack(
      "prod",
      prodConfig((c) => (c["telephony:freeswitch"].image = digest)),
    );
    expect(pinned.run.resources.some((r) => r.name.startsWith("freeswitch-image"))).toBe(false);
    expect(reveal(command(pinned, "freeswitch-container").inputs.create) as string).toContain(
      ` --entrypoint freeswitch ${digest} -nf `,
    );
  });

  it("run the API on the host network with settings and secrets mounted read-only", () => {
    const create = reveal(command(prod, "config-api-container").inputs.create) as string;
    expect(create).toContain("--network host");
    expect(create).toContain("-v /srv/telephony/api/secrets:/run/secrets:ro");
    expect(create).toMatch(/telephony-config-api:[0-9a-f]{16}/);
  });

  it("carry no rendered content and no secret in their inputs", () => {
    for (const name of ["freeswitch-container", "config-api-container", "config-api-image"]) {
      const inputs = JSON.stringify(reveal(command(prod, name).inputs));
      expect(inputs, name).not.toContain("<?xml");
      expect(inputs, name).not.toContain("stdin");
      for (const s of [TEST_SECRETS.trunkPasswords.oneandone, "mockpw"]) expect(inputs, name).not.toContain(s);
    }
  });
});

describe("files on the host", () => {
  it("are one resource per reload class, secret exactly where a file holds a secret", () => {
    const groups = prod.run.resources.filter((r) => r.name.startsWith("files-"));
    expect(groups.map((r) => r.name).sort()).toEqual(
      [
        "files-acl",
        "files-acme",
        "files-api-restart",
        "files-dialplan",
        "files-fail2ban",
        "files-freeswitch-restart",
        "files-host-firewall",
        "files-host-maintenance",
        "files-profile-external-ipv4",
        "files-profile-internal",
        "files-profile-internal-ipv4",
      ].sort(),
    );
    const secret = groups
      .filter((r) => isSecretValue(r.inputs.stdin))
      .map((r) => r.name)
      .sort();
    expect(secret).toEqual(["files-acme", "files-api-restart", "files-freeswitch-restart"]);
  });

  it("update in place (an update script), so a file change reloads rather than re-creates", () => {
    for (const r of prod.run.resources.filter((x) => x.name.startsWith("files-")))
      expect(r.inputs.update, r.name).toBe(r.inputs.create);
  });
});

describe("trunks and extensions handed to the config API", () => {
  const trunks = (run: StackRun) =>
    JSON.parse(reveal(command(run, "config-api-sync-trunks").inputs.stdin)) as { name: string; password?: string }[];

  it("travel as secret stdin", () => {
    expect(isSecretValue(command(prod, "config-api-sync-trunks").inputs.stdin)).toBe(true);
    expect(isSecretValue(command(prod, "config-api-sync-extensions").inputs.stdin)).toBe(true);
  });

  it("include the REGISTER trunk with its password in the stack it is active in", () => {
    expect(trunks(prod).map((t) => t.name)).toEqual(["oneandone", "plusnet"]);
    expect(trunks(prod).find((t) => t.name === "oneandone")!.password).toBe(TEST_SECRETS.trunkPasswords.oneandone);
  });

  it("leave the copied REGISTER trunk out of a clone that is not named in activeInStacks", () => {
    expect(trunks(staging).map((t) => t.name)).toEqual(["plusnet"]);
  });

  it("give every extension a generated password, exported only as a secret", async () => {
    const extensions = JSON.parse(reveal(command(prod, "config-api-sync-extensions").inputs.stdin)) as {
      id: string;
      password: string;
      context: string;
    }[];
    expect(extensions.map((e) => e.id)).toEqual(["100", "200"]);
    for (const e of extensions) expect(e.password).toMatch(/^mockpw/);
    expect(await pulumi.isSecret(prod.deployment.extensionCredentials.values)).toBe(true);
    const credentials = await promiseOf(prod.deployment.extensionCredentials.values);
    expect(credentials["100"].password).toBe(extensions[0].password);
  });
});
