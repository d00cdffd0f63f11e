import { describe, expect, it } from "vitest";
import { judgeReply } from "../../api/eslReply";

const KILL = "sofia profile internal killgw oneandone";
const RESCAN = "sofia profile internal rescan";

// Replies as FreeSWITCH 1.10.12 writes them (mod_sofia.c cmd_profile, mod_event_socket.c).
describe("judging FreeSWITCH's answer to an ESL api command", () => {
  it("accepts +OK, also after a successful XML reload", () => {
    expect(judgeReply(KILL, "+OK gateway marked for deletion.\n")).toEqual({ kind: "applied" });
    expect(judgeReply(RESCAN, "Reload XML [Success]\n+OK scan complete\n")).toEqual({ kind: "applied" });
  });

  it("treats killgw of a gateway FreeSWITCH does not run as nothing left to kill", () => {
    expect(judgeReply(KILL, "-ERR no such gateway.\n")).toEqual({ kind: "absent" });
  });

  it("refuses answers that do not start with -ERR: an unknown profile, bad arguments, usage text", () => {
    expect(judgeReply(KILL, "Invalid Profile [internal]")).toEqual({
      kind: "refused",
      reason: "Invalid Profile [internal]",
    });
    expect(judgeReply("sofia profile internal", "Invalid Args!\n")).toEqual({
      kind: "refused",
      reason: "Invalid Args!",
    });
    expect(
      judgeReply(
        "sofia frobnicate",
        "USAGE:\n--------------------------------------------------------------------------------\nsofia global siptrace <on|off>\n",
      ).kind,
    ).toBe("refused");
  });

  it("refuses -ERR, also when it follows a successful XML reload", () => {
    expect(judgeReply(RESCAN, "Reload XML [Success]\n-ERR cannot find config for profile internal\n")).toEqual({
      kind: "refused",
      reason: "-ERR cannot find config for profile internal",
    });
    expect(judgeReply(KILL, "-ERR sofia Command not found!\n").kind).toBe("refused");
  });

  it("refuses a rescan whose XML reload failed, even though the scan reports +OK", () => {
    expect(judgeReply(RESCAN, "Reload XML [Error on line 3: unclosed <profile>]\n+OK scan complete\n")).toEqual({
      kind: "refused",
      reason: "XML reload failed: Error on line 3: unclosed <profile>",
    });
  });

  it("refuses an empty answer", () => {
    expect(judgeReply(KILL, "\n").kind).toBe("refused");
  });
});
