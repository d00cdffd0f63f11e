/**
 * A phone's media, run in the phone's namespace: binds the port the phone offered in its SDP,
 * waits for the file naming the address and port FreeSWITCH answered with, sends G.711 A-law RTP
 * there every 20 ms from the offered port, and counts the RTP that comes back (the carrier
 * stand-in echoes it through FreeSWITCH). Prints {"sent":n,"received":n} and exits.
 *   tsx rtpPeer.ts <bind ip> <bind port> <answer file> <packets>
 */
import { createSocket } from "node:dgram";
import { existsSync, readFileSync } from "node:fs";
import { waitFor } from "../support/waitFor";

const [ip, port, answerFile, count] = process.argv.slice(2);
const packets = Number(count);
const socket = createSocket("udp4");
let received = 0;
socket.on("message", (msg) => {
  if (msg.length >= 12 && (msg[0] & 0xc0) === 0x80 && (msg[1] & 0x7f) === 8) received++;
});

function rtp(seq: number): Buffer {
  const packet = Buffer.alloc(12 + 160, 0xd5); // A-law silence
  packet[0] = 0x80;
  packet[1] = 8; // PCMA
  packet.writeUInt16BE(seq & 0xffff, 2);
  packet.writeUInt32BE(seq * 160, 4);
  packet.writeUInt32BE(0x5eed5eed, 8);
  return packet;
}

async function sendAndCount(): Promise<void> {
  await waitFor(
    `an answer address in ${answerFile}`,
    20_000,
    () => existsSync(answerFile) && readFileSync(answerFile, "utf8").trim().split(" ").length >= 2,
    { everyMs: 50 },
  );
  const [toIp, toPort] = readFileSync(answerFile, "utf8").trim().split(" ");
  for (let seq = 0; seq < packets; seq++) {
    socket.send(rtp(seq), Number(toPort), toIp);
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 500));
  console.log(JSON.stringify({ sent: packets, received, to: `${toIp}:${toPort}` }));
  socket.close();
}

// bind's callback ignores a returned promise: the failure (no answer address in time) is caught
// here, said on stderr, and ends the process with a status the test reports.
socket.bind(Number(port), ip, () => {
  sendAndCount().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
});
