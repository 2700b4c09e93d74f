import { symlink, unlink } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ByteStream } from "../../../src/sources/link/byteStream.js";
import {
  DEFAULT_NODE_CHECK_INTERVAL_MS,
  describeOpenError,
  type SerialSettings,
  serialConnector,
} from "../../../src/sources/link/serialConnector.js";
import { startPtyPair } from "../../helpers/ptyPair.js";
import { Resources } from "../../helpers/resources.js";
import { waitUntil } from "../../helpers/waitUntil.js";

const LINE: Omit<SerialSettings, "path"> = { baudRate: 19200, parity: "even", dataBits: 8, stopBits: 1 };

interface Opened {
  readonly stream: ByteStream;
  readonly received: number[];
  readonly closes: string[];
}

async function open(path: string, nodeCheckIntervalMs = 50): Promise<Opened> {
  const received: number[] = [];
  const closes: string[] = [];
  const stream = await serialConnector({ path, ...LINE }, { nodeCheckIntervalMs })(
    { onData: (bytes) => received.push(...bytes), onClose: (reason) => closes.push(reason) },
    new AbortController().signal,
  );
  return { stream, received, closes };
}

describe("serialConnector", () => {
  let resources: Resources;
  const streams: ByteStream[] = [];

  beforeEach(() => {
    resources = new Resources();
  });

  afterEach(async () => {
    await Promise.all(streams.splice(0).map((s) => s.close()));
    await resources.release();
  });

  async function pair() {
    return resources.track(await startPtyPair(await resources.tempDir("serial-connector-")));
  }

  async function opened(path: string, nodeCheckIntervalMs?: number): Promise<Opened> {
    const result = await open(path, nodeCheckIntervalMs);
    streams.push(result.stream);
    return result;
  }

  it("carries bytes both ways between the two ends of a pty pair", async () => {
    const { a, b } = await pair();
    const near = await opened(a);
    const far = await opened(b);
    await near.stream.write(Uint8Array.from([1, 3, 0, 0, 0, 2, 0xc4, 0x0b]));
    await far.stream.write(Uint8Array.from([0xaa, 0x55]));
    await waitUntil(() => far.received.length === 8 && near.received.length === 2, "bytes across the pair");
    expect(far.received).toEqual([1, 3, 0, 0, 0, 2, 0xc4, 0x0b]);
    expect(near.received).toEqual([0xaa, 0x55]);
    await near.stream.discardInput();
  });

  it("names an absent device node", async () => {
    const dir = await resources.tempDir("serial-connector-");
    await expect(open(join(dir, "ttyUSB9"))).rejects.toThrow(/ttyUSB9 is absent \(unplugged\?\)/);
  });

  it("refuses a second open of a port with a 'locked by another process' error", async () => {
    const { a } = await pair();
    await opened(a);
    await expect(open(a)).rejects.toThrow(/is locked by another process/);
  });

  it("explains permission errors with the dialout group", () => {
    const error = Object.assign(new Error("Permission denied, cannot open /dev/ttyUSB0"), { code: "EACCES" });
    expect(describeOpenError("/dev/ttyUSB0", error)).toMatch(
      /^\/dev\/ttyUSB0 permission denied: is the service user in group dialout\?/,
    );
  });

  it("reports an unplug (the pty pair goes away) as a close naming the absent device", async () => {
    const pty = await pair();
    // The node check runs at the product's default (1 s). serialport's own disconnect path usually
    // reports the hangup first, but a read that starts just after it can spin without a close
    // event (serialport 13; seen once in CI with the check off): then the check ends it, as in
    // the field. The next test covers the check alone.
    const near = await opened(pty.a, DEFAULT_NODE_CHECK_INTERVAL_MS);
    const far = await opened(pty.b, 0);
    // A byte across first, so the reader is parked in poll(), where a hangup is an error event.
    await far.stream.write(Uint8Array.of(0x55));
    await waitUntil(() => near.received.length === 1, "a byte across before the unplug");
    await pty.kill();
    await waitUntil(() => near.closes.length > 0, "onClose after unplug", { timeoutMs: 5_000 });
    expect(near.closes).toEqual([expect.stringMatching(/is absent \(unplugged\?\)/)]);
  });

  it("notices a device node that vanished without any event on the open port (FAULTS 8.4 #2043)", async () => {
    const pty = await pair();
    const near = await opened(pty.a, 50);
    // The pty itself stays alive, so the open fd sees nothing: only the node check can tell.
    await unlink(pty.a);
    await waitUntil(() => near.closes.length > 0, "onClose after the node vanished", { timeoutMs: 5_000 });
    expect(near.closes).toEqual([expect.stringMatching(/is absent \(unplugged\?\)/)]);
    await expect(near.stream.write(Uint8Array.of(1))).rejects.toThrow(/is closed/);
  });

  it("notices a by-id link that now points at another device (replugged as another ttyUSBn)", async () => {
    const pty = await pair();
    const dir = await resources.tempDir("serial-connector-link-");
    const link = join(dir, "usb-FTDI-if00");
    await symlink(pty.a, link);
    const near = await opened(link, 50);
    await unlink(link);
    await symlink(pty.b, link);
    await waitUntil(() => near.closes.length > 0, "onClose after the link moved", { timeoutMs: 5_000 });
    expect(near.closes).toEqual([`${link} now names another device (replugged?)`]);
  });

  it("does not report a close it was asked for", async () => {
    const { a } = await pair();
    const near = await opened(a);
    await near.stream.close();
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(near.closes).toEqual([]);
    // The lock went with the close: the port opens again.
    await opened(a);
  });
});
