/**
 * ReconnectingStream over tcpConnector against real local TCP servers the test controls: backoff
 * and jitter, the reset after a good connection, whenConnected in every state, drop/release,
 * stop during a connect, and no leaks over thousands of reconnects (issue #4 item 3, FAULTS 8.3).
 */
import { getEventListeners } from "node:events";
import type { Socket } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { Connector, StreamState } from "../../../src/sources/link/byteStream.js";
import { backoffDelayMs, ReconnectingStream } from "../../../src/sources/link/reconnectingStream.js";
import { tcpConnector } from "../../../src/sources/link/tcpConnector.js";
import {
  closedPort,
  holdOpen,
  type LocalTcpServer,
  startLocalTcpServer,
} from "../../helpers/localTcpServer.js";
import { waitUntil } from "../../helpers/waitUntil.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

async function server(behaviour: (socket: Socket, index: number) => void): Promise<LocalTcpServer> {
  const started = await startLocalTcpServer(behaviour);
  cleanups.push(() => started.close());
  return started;
}

interface Recorded {
  readonly stream: ReconnectingStream;
  readonly states: { state: StreamState; reason: string | undefined; at: number }[];
  readonly data: Uint8Array[];
}

function managed(
  connector: Connector,
  options: {
    initialDelayMs: number;
    maxDelayMs: number;
    pauseAfterConnectMs?: number;
    random?: () => number;
  },
): Recorded {
  const stream = new ReconnectingStream(connector, options);
  const states: Recorded["states"] = [];
  const data: Uint8Array[] = [];
  stream.onStateChange((state, reason) => states.push({ state, reason, at: performance.now() }));
  stream.onData((bytes) => data.push(bytes));
  cleanups.push(() => stream.stop());
  return { stream, states, data };
}

const start = (stream: ReconnectingStream): Promise<void> => stream.start(new AbortController().signal);

describe("backoffDelayMs", () => {
  const options = { initialDelayMs: 100, maxDelayMs: 1000 };

  it("doubles from the initial delay up to the cap, at the low end of the jitter with random 0", () => {
    const delays = [0, 1, 2, 3, 4, 5, 40, 2000].map((n) => backoffDelayMs(n, options, () => 0));
    expect(delays).toEqual([50, 100, 200, 400, 500, 500, 500, 500]);
  });

  it("stays within [base/2, base] for any random draw", () => {
    for (let n = 0; n < 8; n++) {
      const base = Math.min(1000, 100 * 2 ** n);
      for (const r of [0, 0.25, 0.5, 0.999999]) {
        const value = backoffDelayMs(n, options, () => r);
        expect(value).toBeGreaterThanOrEqual(base / 2);
        expect(value).toBeLessThanOrEqual(base);
      }
      expect(backoffDelayMs(n, options, () => 0.999999)).toBeCloseTo(base, 2);
    }
  });
});

describe("ReconnectingStream", () => {
  it("backs off between refused connects on the jittered doubling schedule and names the error", async () => {
    const port = await closedPort();
    const { stream, states } = managed(tcpConnector("127.0.0.1", port), {
      initialDelayMs: 40,
      maxDelayMs: 160,
      random: () => 0,
    });
    const delays: (number | undefined)[] = [];
    stream.onStateChange((state) => {
      if (state === "backoff") {
        delays.push(stream.backoffDelayMs);
      }
    });
    await start(stream);
    await waitUntil(() => delays.length >= 5, "five failed connects");
    await stream.stop();
    expect(delays.slice(0, 5)).toEqual([20, 40, 80, 80, 80]);
    expect(stream.lastError).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(states.find((s) => s.state === "backoff")?.reason).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`);
    // Each new attempt starts no sooner than the delay drawn for the backoff before it.
    const backoffs = states.filter((s) => s.state === "backoff");
    const attempts = states.filter((s) => s.state === "connecting").slice(1);
    for (let i = 0; i < 4; i++) {
      const waited = (attempts[i]?.at ?? 0) - (backoffs[i]?.at ?? 0);
      expect(waited).toBeGreaterThanOrEqual((delays[i] ?? 0) - 2);
    }
    expect(stream.connects).toBe(0);
  });

  it("draws the delay from the top of the jitter range with random near 1", async () => {
    const port = await closedPort();
    const { stream } = managed(tcpConnector("127.0.0.1", port), {
      initialDelayMs: 40,
      maxDelayMs: 100,
      random: () => 0.99,
    });
    const delays: number[] = [];
    stream.onStateChange((state) => {
      if (state === "backoff" && stream.backoffDelayMs !== undefined) {
        delays.push(stream.backoffDelayMs);
      }
    });
    await start(stream);
    await waitUntil(() => delays.length >= 3, "three failed connects");
    expect(delays.slice(0, 3)).toEqual([39.8, 79.6, 99.5]);
  });

  it("keeps doubling while the peer closes at once, and resets after a connection that stayed up", async () => {
    const closesAtOnce = await server((socket) => socket.destroy());
    const flapping = managed(tcpConnector("127.0.0.1", closesAtOnce.port), {
      initialDelayMs: 20,
      maxDelayMs: 10_000,
      random: () => 0,
    });
    const flappingDelays: number[] = [];
    flapping.stream.onStateChange((state) => {
      if (state === "backoff" && flapping.stream.backoffDelayMs !== undefined) {
        flappingDelays.push(flapping.stream.backoffDelayMs);
      }
    });
    await start(flapping.stream);
    await waitUntil(() => flappingDelays.length >= 4, "four short-lived connections");
    expect(flappingDelays.slice(0, 4)).toEqual([10, 20, 40, 80]);
    expect(flapping.stream.lastError).toBe("peer closed the connection");

    // Up for 100 ms (>= initialDelayMs) before each close: every delay is the initial one again.
    const closesLater = await server((socket) => {
      setTimeout(() => socket.destroy(), 100);
    });
    const stable = managed(tcpConnector("127.0.0.1", closesLater.port), {
      initialDelayMs: 20,
      maxDelayMs: 10_000,
      random: () => 0,
    });
    const stableDelays: number[] = [];
    stable.stream.onStateChange((state) => {
      if (state === "backoff" && stable.stream.backoffDelayMs !== undefined) {
        stableDelays.push(stable.stream.backoffDelayMs);
      }
    });
    await start(stable.stream);
    await waitUntil(() => stableDelays.length >= 3, "three stable connections closed");
    expect(stableDelays.slice(0, 3)).toEqual([10, 10, 10]);
    expect(stable.stream.connects).toBeGreaterThanOrEqual(3);
    expect(stable.stream.disconnects).toBeGreaterThanOrEqual(3);
  });

  it("passes data both ways while connected and refuses writes otherwise", async () => {
    const received: Buffer[] = [];
    const peer = await server((socket) => {
      socket.on("data", (chunk: Buffer) => {
        received.push(chunk);
        socket.write(Buffer.from([0xaa, ...chunk]));
      });
    });
    const { stream, data } = managed(tcpConnector("127.0.0.1", peer.port), {
      initialDelayMs: 50,
      maxDelayMs: 100,
    });
    await expect(stream.write(new Uint8Array([1]))).rejects.toThrow("not connected (idle)");
    await start(stream);
    expect(await stream.whenConnected(2_000)).toBe(true);
    await stream.write(new Uint8Array([1, 2, 3]));
    await waitUntil(() => data.length > 0, "the echo");
    expect([...Buffer.concat(data)]).toEqual([0xaa, 1, 2, 3]);
    expect([...Buffer.concat(received)]).toEqual([1, 2, 3]);
    await stream.discardInput();
  });

  it("answers whenConnected in every state", async () => {
    const port = await closedPort();
    const refused = managed(tcpConnector("127.0.0.1", port), { initialDelayMs: 5_000, maxDelayMs: 5_000 });
    // idle, never started: nothing to do.
    expect(await refused.stream.whenConnected(1_000)).toBe(false);
    expect(refused.stream.state).toBe("idle");
    await start(refused.stream);
    // connecting: waits for the attempt, which is refused.
    expect(refused.stream.state).toBe("connecting");
    expect(await refused.stream.whenConnected(2_000)).toBe(false);
    // backoff: false at once, without waiting for the 2.5-5 s delay.
    expect(refused.stream.state).toBe("backoff");
    const before = performance.now();
    expect(await refused.stream.whenConnected(10_000)).toBe(false);
    expect(performance.now() - before).toBeLessThan(1_000);
    await refused.stream.stop();
    expect(await refused.stream.whenConnected(1_000)).toBe(false);

    const peer = await server(holdOpen);
    const paused = managed(tcpConnector("127.0.0.1", peer.port), {
      initialDelayMs: 50,
      maxDelayMs: 100,
      pauseAfterConnectMs: 400,
    });
    await start(paused.stream);
    // connecting (in the pause): bounded by the timeout, and by the signal.
    expect(await paused.stream.whenConnected(30)).toBe(false);
    const abort = new AbortController();
    const aborted = paused.stream.whenConnected(5_000, abort.signal);
    abort.abort();
    expect(await aborted).toBe(false);
    expect(getEventListeners(abort.signal, "abort")).toHaveLength(0);
    expect(paused.stream.state).toBe("connecting");
    await expect(paused.stream.write(new Uint8Array([1]))).rejects.toThrow("not connected (connecting)");
    expect(await paused.stream.whenConnected(5_000)).toBe(true);
    // connected: true at once.
    expect(await paused.stream.whenConnected(0)).toBe(true);
  });

  it("release() closes without reconnecting; the next whenConnected() opens a new connection", async () => {
    const peer = await server(holdOpen);
    const { stream } = managed(tcpConnector("127.0.0.1", peer.port), { initialDelayMs: 20, maxDelayMs: 40 });
    await start(stream);
    expect(await stream.whenConnected(2_000)).toBe(true);
    stream.release();
    expect(stream.state).toBe("idle");
    await waitUntil(() => peer.open.size === 0, "the peer to see the close");
    await delay(100);
    expect(peer.accepted).toBe(1);
    expect(stream.state).toBe("idle");
    expect(await stream.whenConnected(2_000)).toBe(true);
    expect(peer.accepted).toBe(2);
    expect(stream.connects).toBe(2);
    expect(stream.disconnects).toBe(1);
  });

  it("release() during a backoff lets the backoff run out and then stays idle", async () => {
    const port = await closedPort();
    const { stream, states } = managed(tcpConnector("127.0.0.1", port), {
      initialDelayMs: 60,
      maxDelayMs: 60,
    });
    await start(stream);
    await waitUntil(() => stream.state === "backoff", "the first refusal");
    stream.release();
    expect(await stream.whenConnected(1_000)).toBe(false);
    await waitUntil(() => stream.state === "idle", "the backoff to end");
    await delay(150);
    expect(states.filter((s) => s.state === "connecting")).toHaveLength(1);
  });

  it("drop() closes the connection and reconnects after the backoff", async () => {
    const peer = await server(holdOpen);
    const { stream } = managed(tcpConnector("127.0.0.1", peer.port), {
      initialDelayMs: 50,
      maxDelayMs: 100,
      random: () => 0,
    });
    await start(stream);
    expect(await stream.whenConnected(2_000)).toBe(true);
    stream.drop("MBAP header out of step");
    expect(stream.state).toBe("backoff");
    expect(stream.lastError).toBe("MBAP header out of step");
    await waitUntil(() => peer.accepted === 2 && stream.state === "connected", "the reconnect");
    expect(stream.connects).toBe(2);
    expect(stream.disconnects).toBe(1);
  });

  it("reports a peer reset with a technician's wording and reconnects", async () => {
    const peer = await server((socket, index) => {
      if (index === 0) {
        setTimeout(() => socket.resetAndDestroy(), 50);
      }
    });
    const { stream, states } = managed(tcpConnector("127.0.0.1", peer.port), {
      initialDelayMs: 20,
      maxDelayMs: 40,
    });
    await start(stream);
    await waitUntil(() => peer.accepted === 2 && stream.state === "connected", "the reconnect after the RST");
    expect(states.find((s) => s.state === "backoff")?.reason).toBe("connection reset by peer");
  });

  it("stop() during the pause after connect closes the socket and leaves no timer behind", async () => {
    const peer = await server(holdOpen);
    const { stream, states } = managed(tcpConnector("127.0.0.1", peer.port), {
      initialDelayMs: 20,
      maxDelayMs: 40,
      pauseAfterConnectMs: 300,
    });
    await start(stream);
    await waitUntil(() => peer.accepted === 1, "the connection");
    const waiting = stream.whenConnected(5_000);
    await stream.stop();
    expect(await waiting).toBe(false);
    await waitUntil(() => peer.open.size === 0, "the peer to see the close");
    await delay(400);
    expect(stream.state).toBe("stopped");
    expect(stream.connects).toBe(0);
    expect(peer.accepted).toBe(1);
    expect(states.map((s) => s.state)).toEqual(["connecting", "stopped"]);
  });

  it("stop() during a connect aborts the connector's signal", async () => {
    const peer = await server(holdOpen);
    const real = tcpConnector("127.0.0.1", peer.port);
    let seenSignal: AbortSignal | undefined;
    // A slow network in front of the real connector: the open is pending when stop() comes.
    const slow: Connector = async (handlers, signal) => {
      seenSignal = signal;
      await delay(200, undefined, { signal });
      return real(handlers, signal);
    };
    const { stream } = managed(slow, { initialDelayMs: 20, maxDelayMs: 40 });
    await start(stream);
    await stream.stop();
    expect(seenSignal?.aborted).toBe(true);
    await delay(300);
    expect(peer.accepted).toBe(0);
    expect(stream.state).toBe("stopped");
  });

  it("start() with an aborted signal starts nothing", async () => {
    const peer = await server(holdOpen);
    const { stream } = managed(tcpConnector("127.0.0.1", peer.port), { initialDelayMs: 20, maxDelayMs: 40 });
    await expect(stream.start(AbortSignal.abort(new Error("shutting down")))).rejects.toThrow(
      "shutting down",
    );
    await delay(100);
    expect(peer.accepted).toBe(0);
    expect(stream.state).toBe("idle");
  });
});
