/**
 * MbapLink against a fault-injecting Modbus TCP peer (test/fixtures/faultyMbapPeer.ts), for the
 * FAULTS 8.3 rows pymodbus cannot produce: a late reply after a timeout, transaction-id, unit,
 * function-code and byte-count mismatches, a corrupt MBAP header, an RST mid-read, a device that
 * allows one client, and a device that needs a pause after connect.
 */
import { setTimeout as delay } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { ReadRequest } from "../../../../src/sources/modbus/frames/readRequest.js";
import { MbapLink, type MbapLinkOptions } from "../../../../src/sources/modbus/link/mbapLink.js";
import type { LinkReadResult } from "../../../../src/sources/modbus/link/modbusLink.js";
import {
  type FaultyPeerOptions,
  type PeerAction,
  type PeerRequest,
  registerValue,
  startFaultyMbapPeer,
} from "../../../fixtures/faultyMbapPeer.js";
import { closedPort } from "../../../helpers/localTcpServer.js";
import { Resources } from "../../../helpers/resources.js";
import { waitUntil } from "../../../helpers/waitUntil.js";

const resources = new Resources();
afterEach(() => resources.release());

async function peer(options: FaultyPeerOptions) {
  const started = await startFaultyMbapPeer(options);
  resources.track({ kill: () => started.close() });
  return started;
}

async function startedLink(port: number, overrides: Partial<MbapLinkOptions> = {}): Promise<MbapLink> {
  const created = new MbapLink({
    host: "127.0.0.1",
    port,
    keepConnectionOpen: true,
    pauseAfterConnectMs: 0,
    reconnect: { initialDelayMs: 100, maxDelayMs: 200 },
    ...overrides,
  });
  resources.track({ kill: () => created.stop() });
  await created.start(new AbortController().signal);
  return created;
}

const holding = (unitId: number, address: number, quantity = 2): ReadRequest => ({
  unitId,
  functionCode: 3,
  address,
  quantity,
});

const registersOf = (unitId: number, address: number, quantity = 2): LinkReadResult => ({
  kind: "ok",
  registers: Array.from({ length: quantity }, (_, i) => registerValue(unitId, address + i)),
});

/** Answers correctly except for the request(s) that `fault` picks. */
function faultOn(fault: (request: PeerRequest) => PeerAction | undefined): (r: PeerRequest) => PeerAction {
  return (request) => fault(request) ?? { kind: "reply" };
}

describe("MbapLink against a fault-injecting peer", () => {
  it("never takes a late reply for the next request: the next read gets its own data", async () => {
    // Request at address 10: reply 300 ms late. Request at address 20: reply after 250 ms, so the
    // late reply to the first lands while the second is in flight.
    const server = await peer({
      respond: (r) => ({ kind: "reply", delayMs: r.address === 10 ? 300 : 250 }),
    });
    const link = await startedLink(server.port);
    expect(await link.read(holding(1, 10), { timeoutMs: 150 })).toEqual({ kind: "timeout", crcErrors: 0 });
    expect(await link.read(holding(1, 20), { timeoutMs: 2_000 })).toEqual(registersOf(1, 20));
    expect(link.stats()).toMatchObject({ requests: 2, responses: 1, timeouts: 1, lateOrUnmatched: 1 });
    // Transaction ids went up by one per request.
    expect(server.requests.map((r) => r.transactionId)).toEqual([0, 1]);
  });

  it("drops a reply with a transaction id it did not send, and times out", async () => {
    const server = await peer({
      respond: faultOn((r) =>
        r.address === 5 ? { kind: "reply", transactionId: (r.transactionId + 7) & 0xffff } : undefined,
      ),
    });
    const link = await startedLink(server.port);
    expect(await link.read(holding(1, 5), { timeoutMs: 200 })).toEqual({ kind: "timeout", crcErrors: 0 });
    expect(await link.read(holding(1, 6), { timeoutMs: 2_000 })).toEqual(registersOf(1, 6));
    expect(link.stats()).toMatchObject({ lateOrUnmatched: 1, timeouts: 1, responses: 1 });
  });

  it.each([
    ["unit id", { unitId: 9 }, "unit id 9, expected 1"],
    ["function code", { functionCode: 4 }, "function code 0x04, expected 0x03"],
    ["byte count", { byteCount: 2 }, "byte count 2, expected 4"],
  ] as const)("rejects a reply with the wrong %s as invalid and goes on", async (_name, fault, reason) => {
    const server = await peer({
      respond: faultOn((r) => (r.address === 0 ? { kind: "reply", ...fault } : undefined)),
    });
    const link = await startedLink(server.port);
    expect(await link.read(holding(1, 0), { timeoutMs: 2_000 })).toEqual({ kind: "invalid", reason });
    expect(await link.read(holding(1, 8), { timeoutMs: 2_000 })).toEqual(registersOf(1, 8));
    expect(link.stats()).toMatchObject({ invalidReplies: 1, responses: 2, connects: 1, disconnects: 0 });
  });

  it.each([
    ["a protocol id other than 0", { protocolId: 1 }, "protocol id 1 and length 7"],
    ["an MBAP length of 0", { lengthField: 0 }, "protocol id 0 and length 0"],
    ["an MBAP length above 254", { lengthField: 300 }, "protocol id 0 and length 300"],
  ] as const)(
    "on %s, drops the connection and reads again after reconnecting",
    async (_name, fault, header) => {
      const server = await peer({
        respond: faultOn((r) => (r.connection === 0 ? { kind: "reply", ...fault } : undefined)),
      });
      const link = await startedLink(server.port);
      const result = await link.read(holding(1, 0), { timeoutMs: 2_000 });
      expect(result.kind).toBe("invalid");
      expect(result.kind === "invalid" ? result.reason : "").toContain(header);
      expect(link.state).toBe("backoff");
      expect(link.lastError).toContain("out of step");
      await waitUntil(() => server.server.accepted === 2 && link.state === "connected", "the reconnect");
      expect(await link.read(holding(1, 3), { timeoutMs: 2_000 })).toEqual(registersOf(1, 3));
      expect(link.stats()).toMatchObject({ invalidReplies: 1, connects: 2, disconnects: 1 });
    },
  );

  it("resolves a read cut by an RST as disconnected at once, then reconnects", async () => {
    const server = await peer({
      respond: faultOn((r) => (r.connection === 0 ? { kind: "reset" } : undefined)),
    });
    const link = await startedLink(server.port);
    const before = performance.now();
    expect(await link.read(holding(1, 0), { timeoutMs: 5_000 })).toEqual({
      kind: "disconnected",
      reason: "connection reset by peer",
    });
    expect(performance.now() - before).toBeLessThan(4_000);
    // While backing off, a read answers at once instead of waiting for the backoff.
    expect(await link.read(holding(1, 0), { timeoutMs: 5_000 })).toEqual({
      kind: "disconnected",
      reason: "connection reset by peer",
    });
    await waitUntil(() => link.state === "connected", "the reconnect");
    expect(await link.read(holding(1, 0), { timeoutMs: 2_000 })).toEqual(registersOf(1, 0));
    expect(link.stats()).toMatchObject({ requests: 2, responses: 1, timeouts: 0 });
  });

  it("takes turns with another client on a one-client device when keepConnectionOpen is false", async () => {
    const server = await peer({ singleClient: true });
    const slotFree = (): Promise<void> =>
      waitUntil(() => server.server.open.size === 0, "the device's only slot to be free");
    const a = await startedLink(server.port, { keepConnectionOpen: false });
    expect(await a.read(holding(1, 0), { timeoutMs: 2_000 })).toEqual(registersOf(1, 0));
    a.idle();
    await slotFree();
    const b = await startedLink(server.port, { keepConnectionOpen: false });
    expect(await b.read(holding(2, 0), { timeoutMs: 2_000 })).toEqual(registersOf(2, 0));
    b.idle();
    for (let poll = 1; poll <= 3; poll++) {
      for (const [unit, link] of [
        [1, a],
        [2, b],
      ] as const) {
        await slotFree();
        expect(link.state).toBe("idle");
        expect(await link.read(holding(unit, poll), { timeoutMs: 2_000 })).toEqual(registersOf(unit, poll));
        link.idle();
      }
    }
    expect(server.turnedAway).toBe(0);
    expect(server.server.accepted).toBe(8);
    expect(a.stats()).toMatchObject({ responses: 4, connects: 4, disconnects: 4 });
    expect(b.stats()).toMatchObject({ responses: 4, connects: 4, disconnects: 4 });
  });

  it("is turned away by a one-client device while another client keeps its connection open", async () => {
    const server = await peer({ singleClient: true });
    const holder = await startedLink(server.port, { keepConnectionOpen: true });
    expect(await holder.read(holding(1, 0), { timeoutMs: 2_000 })).toEqual(registersOf(1, 0));
    const other = await startedLink(server.port, { keepConnectionOpen: true });
    await waitUntil(() => server.turnedAway >= 1, "the second client to be turned away");
    expect(await other.read(holding(1, 0), { timeoutMs: 2_000 })).toEqual({
      kind: "disconnected",
      reason: "peer closed the connection",
    });
  });

  it("honours pauseAfterConnect for a device deaf right after accept", async () => {
    const deaf = await peer({ deafAfterAcceptMs: 300 });
    const hasty = await startedLink(deaf.port, { pauseAfterConnectMs: 0 });
    expect(await hasty.read(holding(1, 0), { timeoutMs: 150 })).toEqual({ kind: "timeout", crcErrors: 0 });

    const patientPeer = await peer({ deafAfterAcceptMs: 300 });
    const patient = await startedLink(patientPeer.port, { pauseAfterConnectMs: 400 });
    expect(patient.state).toBe("connecting");
    expect(await patient.read(holding(1, 0), { timeoutMs: 2_000 })).toEqual(registersOf(1, 0));
    expect(patientPeer.requests[0]?.sinceAcceptMs).toBeGreaterThanOrEqual(300);
  });

  it("asserts one read at a time and refuses a request that is not a read", async () => {
    const server = await peer({ respond: () => ({ kind: "reply", delayMs: 100 }) });
    const link = await startedLink(server.port);
    const first = link.read(holding(1, 0), { timeoutMs: 2_000 });
    await expect(link.read(holding(1, 1), { timeoutMs: 2_000 })).rejects.toThrow(
      "while another read is in flight",
    );
    expect(await first).toEqual(registersOf(1, 0));
    const write = { unitId: 1, functionCode: 6, address: 0, quantity: 1 } as unknown as ReadRequest;
    await expect(link.read(write, { timeoutMs: 2_000 })).rejects.toThrow(RangeError);
    await delay(50);
    expect(server.requests.map((r) => r.functionCode)).toEqual([3]);
  });

  it("resolves an in-flight read on stop() and on its signal, and is silent afterwards", async () => {
    const server = await peer({ respond: () => ({ kind: "ignore" }) });
    const link = await startedLink(server.port);
    const abort = new AbortController();
    const aborted = link.read(holding(1, 0), { timeoutMs: 5_000, signal: abort.signal });
    await waitUntil(() => server.requests.length === 1, "the request");
    abort.abort();
    expect(await aborted).toEqual({ kind: "disconnected", reason: "read aborted" });
    const stopped = link.read(holding(1, 0), { timeoutMs: 5_000 });
    await waitUntil(() => server.requests.length === 2, "the second request");
    await link.stop();
    expect(await stopped).toEqual({ kind: "disconnected", reason: "link stopped" });
    expect(link.state).toBe("stopped");
    expect(await link.read(holding(1, 0), { timeoutMs: 5_000 })).toEqual({
      kind: "disconnected",
      reason: "link stopped",
    });
  });

  it("answers disconnected with the connect error when nothing listens", async () => {
    const port = await closedPort();
    const link = await startedLink(port, { reconnect: { initialDelayMs: 5_000, maxDelayMs: 5_000 } });
    expect(await link.read(holding(1, 0), { timeoutMs: 2_000 })).toEqual({
      kind: "disconnected",
      reason: `connect ECONNREFUSED 127.0.0.1:${port}`,
    });
    expect(link.state).toBe("backoff");
  });
});
