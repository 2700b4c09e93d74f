/**
 * RtuLink on a serial port that goes away and comes back (FAULTS 8.4 "Unplugged", "Replugged",
 * "Port busy or locked"): a socat pty pair is the adapter, killing it is the unplug, a new pair
 * under the same link names is the replug.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ByteStream } from "../../../../src/sources/link/byteStream.js";
import { serialConnector } from "../../../../src/sources/link/serialConnector.js";
import type { LinkReadResult } from "../../../../src/sources/modbus/link/modbusLink.js";
import { type PtyPair, startPtyPair } from "../../../helpers/ptyPair.js";
import { Resources } from "../../../helpers/resources.js";
import { startRtuFaultPeer } from "../../../helpers/rtuFaultPeer.js";
import { waitUntil } from "../../../helpers/waitUntil.js";
import { LINE_19200_8E1, type SerialRtuBus, serialRtuBus } from "./serialRtuBus.js";

const READ = { unitId: 1, functionCode: 3, address: 0, quantity: 2 } as const;
const OK = { kind: "ok", registers: [1300, 1301] };

describe("RtuLink on a port that is unplugged, replugged or locked", () => {
  let resources: Resources;
  let bus: SerialRtuBus | undefined;

  beforeEach(() => {
    resources = new Resources();
  });

  afterEach(async () => {
    await bus?.link.stop();
    bus = undefined;
    await resources.release();
  });

  it("answers 'disconnected ... absent' while unplugged and reads again soon after the replug", async () => {
    const dir = await resources.tempDir("rtu-unplug-");
    let pty: PtyPair = await startPtyPair(dir);
    resources.track({ kill: () => pty.kill() });
    resources.track(await startRtuFaultPeer(pty.b));
    bus = serialRtuBus(pty.a, { initialDelayMs: 100, maxDelayMs: 800, nodeCheckIntervalMs: 100 });
    const { link } = bus;
    await link.start(new AbortController().signal);

    // Poll as the scheduler would, recording every result.
    const results: LinkReadResult[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        results.push(await link.read(READ, { timeoutMs: 200 }));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    try {
      await waitUntil(() => results.some((r) => r.kind === "ok"), "a first good read", { timeoutMs: 5_000 });
      expect(results[0]).toEqual(OK);

      await pty.kill();
      const unpluggedAt = results.length;
      await waitUntil(
        () => results.slice(unpluggedAt).some((r) => r.kind === "disconnected" && /absent/.test(r.reason)),
        "a 'disconnected ... absent' read after the unplug",
        { timeoutMs: 5_000 },
      );
      expect(link.state).not.toBe("connected");
      expect(link.lastError).toMatch(/is absent \(unplugged\?\)/);

      pty = await startPtyPair(dir);
      resources.track(await startRtuFaultPeer(pty.b));
      const replugged = results.length;
      // Robustness deadline (FAULTS 8.4 "Replugged: reopens with backoff"), not a speed figure.
      await waitUntil(
        () => results.slice(replugged).some((r) => r.kind === "ok"),
        "a good read after the replug",
        {
          timeoutMs: 5_000,
        },
      );
      expect(results.at(-1)).toEqual(OK);
      const stats = link.stats();
      expect(stats.connects).toBeGreaterThanOrEqual(2);
      expect(stats.disconnects).toBeGreaterThanOrEqual(1);
    } finally {
      polling = false;
      await poller;
    }
  });

  it("reports a port locked by another opener, backs off, and takes the port once it is free", async () => {
    const pty = resources.track(await startPtyPair(await resources.tempDir("rtu-locked-")));
    resources.track(await startRtuFaultPeer(pty.b));
    const holder: ByteStream = await serialConnector({ path: pty.a, ...LINE_19200_8E1 })(
      { onData: () => {}, onClose: () => {} },
      new AbortController().signal,
    );
    try {
      bus = serialRtuBus(pty.a, { initialDelayMs: 100, maxDelayMs: 1_000 });
      const { link, stream } = bus;
      await link.start(new AbortController().signal);
      await waitUntil(() => link.state === "backoff", "backoff after the refused open", { timeoutMs: 5_000 });
      expect(link.lastError).toMatch(/is locked by another process/);

      // In backoff a read answers at once instead of waiting out its timeout (modbusLink.ts).
      const startedAt = performance.now();
      const result = await link.read(READ, { timeoutMs: 10_000 });
      expect(result).toEqual({
        kind: "disconnected",
        reason: expect.stringMatching(/locked by another process/),
      });
      expect(performance.now() - startedAt).toBeLessThan(5_000);

      // Retries keep failing and the delay grows: no hot loop against a held port.
      await waitUntil(() => (stream.backoffDelayMs ?? 0) >= 200, "the backoff delay to grow", {
        timeoutMs: 5_000,
      });
      expect(link.state === "backoff" || link.state === "connecting").toBe(true);
    } finally {
      await holder.close();
    }
    await waitUntil(() => bus?.link.state === "connected", "the link to take the freed port", {
      timeoutMs: 5_000,
    });
    expect(await bus.link.read(READ, { timeoutMs: 500 })).toEqual(OK);
  });
});
