/**
 * MbapLink against a third-party Modbus TCP server, Debian's pymodbus 3.0 (issue #4: "a server
 * killed and restarted is reconnected within 5 s"): three unit ids behind one endpoint, every read
 * function code, exception 02 on a hole, an absent unit timing out, and kill/restart.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { ReadRequest } from "../../../../src/sources/modbus/frames/readRequest.js";
import { MbapLink, type MbapLinkOptions } from "../../../../src/sources/modbus/link/mbapLink.js";
import type { LinkReadResult } from "../../../../src/sources/modbus/link/modbusLink.js";
import { type PymodbusUnit, startPymodbusServer } from "../../../helpers/pymodbusServer.js";
import { Resources } from "../../../helpers/resources.js";

const UNITS: Record<number, PymodbusUnit> = {
  1: {
    holding: { 0: [100, 101, 102, 103], 40: [0xffff] },
    input: { 0: [7] },
    coils: { 0: [true, false, true, true, false, false, false, false, true] },
    discretes: { 3: [false, true] },
    holes: { holding: [2] },
  },
  2: { holding: { 0: [200, 201] }, input: { 5: [25, 26, 27] } },
  17: { holding: { 0: [1700] }, coils: { 10: [false, true] }, discretes: { 0: [true] } },
};

const resources = new Resources();
afterEach(() => resources.release());

function link(port: number, overrides: Partial<MbapLinkOptions> = {}): MbapLink {
  const created = new MbapLink({
    host: "127.0.0.1",
    port,
    keepConnectionOpen: true,
    pauseAfterConnectMs: 0,
    reconnect: { initialDelayMs: 100, maxDelayMs: 400 },
    ...overrides,
  });
  resources.track({ kill: () => created.stop() });
  return created;
}

const read = (target: MbapLink, request: ReadRequest, timeoutMs = 2_000): Promise<LinkReadResult> =>
  target.read(request, { timeoutMs });

describe("MbapLink against pymodbus 3.0 over TCP", () => {
  it("reads every table of three unit ids through one connection", async () => {
    const server = resources.track(await startPymodbusServer({ transport: "tcp", units: UNITS }));
    const target = link(server.port);
    expect(target.key).toBe(`tcp://127.0.0.1:${server.port}`);
    await target.start(new AbortController().signal);

    expect(await read(target, { unitId: 1, functionCode: 3, address: 0, quantity: 2 })).toEqual({
      kind: "ok",
      registers: [100, 101],
    });
    expect(await read(target, { unitId: 1, functionCode: 3, address: 40, quantity: 1 })).toEqual({
      kind: "ok",
      registers: [0xffff],
    });
    expect(await read(target, { unitId: 1, functionCode: 4, address: 0, quantity: 1 })).toEqual({
      kind: "ok",
      registers: [7],
    });
    expect(await read(target, { unitId: 1, functionCode: 1, address: 0, quantity: 9 })).toEqual({
      kind: "ok",
      bits: [true, false, true, true, false, false, false, false, true],
    });
    expect(await read(target, { unitId: 1, functionCode: 2, address: 3, quantity: 2 })).toEqual({
      kind: "ok",
      bits: [false, true],
    });
    expect(await read(target, { unitId: 2, functionCode: 3, address: 0, quantity: 2 })).toEqual({
      kind: "ok",
      registers: [200, 201],
    });
    expect(await read(target, { unitId: 2, functionCode: 4, address: 5, quantity: 3 })).toEqual({
      kind: "ok",
      registers: [25, 26, 27],
    });
    expect(await read(target, { unitId: 17, functionCode: 3, address: 0, quantity: 1 })).toEqual({
      kind: "ok",
      registers: [1700],
    });
    expect(await read(target, { unitId: 17, functionCode: 1, address: 10, quantity: 2 })).toEqual({
      kind: "ok",
      bits: [false, true],
    });
    expect(await read(target, { unitId: 17, functionCode: 2, address: 0, quantity: 1 })).toEqual({
      kind: "ok",
      bits: [true],
    });
    const stats = target.stats();
    expect(stats).toMatchObject({ requests: 10, responses: 10, timeouts: 0, connects: 1, disconnects: 0 });
    expect(stats.bytesOut).toBe(120);
    expect(stats.lateOrUnmatched).toBe(0);
  });

  it("answers exception 02 for a read over a hole, and times out for an absent unit", async () => {
    const server = resources.track(await startPymodbusServer({ transport: "tcp", units: UNITS }));
    const target = link(server.port);
    await target.start(new AbortController().signal);
    expect(await read(target, { unitId: 1, functionCode: 3, address: 0, quantity: 4 })).toEqual({
      kind: "exception",
      code: 2,
      name: "ILLEGAL DATA ADDRESS",
    });
    expect(await read(target, { unitId: 1, functionCode: 3, address: 3, quantity: 1 })).toEqual({
      kind: "ok",
      registers: [103],
    });
    expect(await read(target, { unitId: 9, functionCode: 3, address: 0, quantity: 1 }, 300)).toEqual({
      kind: "timeout",
      crcErrors: 0,
    });
    // The link carries on after the timeout.
    expect(await read(target, { unitId: 2, functionCode: 3, address: 1, quantity: 1 })).toEqual({
      kind: "ok",
      registers: [201],
    });
    expect(target.stats()).toMatchObject({ requests: 4, responses: 3, timeouts: 1 });
  });

  it("reports a killed server as disconnected within the timeout and reconnects within 5 s of its restart", async () => {
    const first = resources.track(await startPymodbusServer({ transport: "tcp", units: UNITS }));
    const target = link(first.port);
    await target.start(new AbortController().signal);
    const request: ReadRequest = { unitId: 2, functionCode: 3, address: 0, quantity: 1 };
    expect(await read(target, request)).toEqual({ kind: "ok", registers: [200] });

    await first.kill();
    const timeoutMs = 1_000;
    const killedAt = performance.now();
    const down = await read(target, request, timeoutMs);
    expect(performance.now() - killedAt).toBeLessThan(timeoutMs + 500);
    expect(down.kind).toBe("disconnected");
    if (down.kind === "disconnected") {
      expect(down.reason).toMatch(
        /peer closed the connection|connection reset by peer|connection is closed|ECONNREFUSED/,
      );
    }
    expect(target.lastError).toMatch(
      /peer closed the connection|connection reset by peer|connection is closed|ECONNREFUSED/,
    );

    const second = resources.track(
      await startPymodbusServer({ transport: "tcp", port: first.port, units: UNITS }),
    );
    expect(second.port).toBe(first.port);
    const restartedAt = performance.now();
    let result: LinkReadResult = { kind: "disconnected", reason: "not tried" };
    while (result.kind !== "ok" && performance.now() - restartedAt < 5_000) {
      result = await read(target, request, 500);
      if (result.kind !== "ok") {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    expect(result).toEqual({ kind: "ok", registers: [200] });
    expect(target.state).toBe("connected");
    expect(target.stats().connects).toBe(2);
  });

  it("with keepConnectionOpen false, closes on idle() and reconnects for the next read", async () => {
    const server = resources.track(await startPymodbusServer({ transport: "tcp", units: UNITS }));
    const target = link(server.port, { keepConnectionOpen: false });
    await target.start(new AbortController().signal);
    for (let poll = 0; poll < 3; poll++) {
      expect(await read(target, { unitId: 17, functionCode: 3, address: 0, quantity: 1 })).toEqual({
        kind: "ok",
        registers: [1700],
      });
      target.idle();
      expect(target.state).toBe("idle");
    }
    expect(target.stats()).toMatchObject({ connects: 3, disconnects: 3, responses: 3 });
  });
});
