/**
 * Physical names and labels for Hetzner resources, derived from the Pulumi project and stack only.
 * Two stacks of one project never share a name (Hetzner wants names unique per project for
 * servers, firewalls, primary IPs and SSH keys), and nothing in the stack config can rename a
 * resource: the provider has dropped firewall rules when a firewall's name or labels changed.
 */
import * as pulumi from "@pulumi/pulumi";

export interface StackNaming {
  readonly project: string;
  readonly stack: string;
  /** "<project>-<stack>", lower case, valid as an RFC 1123 host name label. */
  readonly prefix: string;
  /** Labels every resource of the stack carries; stable for the stack's lifetime. */
  readonly labels: Readonly<Record<string, string>>;
  /** A physical name: "<project>-<stack>-<suffix>" (or the prefix alone). */
  name(suffix?: string): string;
}

/** Hetzner label values: at most 63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric. */
export function labelValue(value: string): string {
  return value
    .replace(/[^A-Za-z0-9_.-]/g, "-")
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
}

function hostLabel(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "");
}

/** Reads project and stack from the Pulumi runtime when called, never at import time. */
export function stackNaming(project: string = pulumi.getProject(), stack: string = pulumi.getStack()): StackNaming {
  const prefix = hostLabel(`${project}-${stack}`).slice(0, 50).replace(/-$/, "");
  return {
    project,
    stack,
    prefix,
    labels: { "managed-by": "pulumi", project: labelValue(project), stack: labelValue(stack) },
    name: (suffix) => (suffix ? `${prefix}-${hostLabel(suffix)}` : prefix),
  };
}
