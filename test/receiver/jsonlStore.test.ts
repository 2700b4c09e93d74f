/**
 * The JSONL store on its own (jsonlStore.ts, jsonlRestore.ts): one fsynced line per record and
 * event, and, after a restart, the chain state read back from the file, so that what the broker
 * redelivers is a duplicate, a hole open at the stop closes without a false gap, and a line cut
 * short by a crash is removed before anything is appended.
 */
import { appendFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import type { LedgerEntry } from "../../src/ledger/ledgerEntry.js";
import { ReceiverCore, ReceiverKeys, type ReceiverOutcome } from "../../src/receiver/index.js";
import { JsonlStore } from "../../src/receiver/jsonlStore.js";
import { MemoryReceiverState } from "../../src/receiver/receiverState.js";
import { Resources } from "../helpers/resources.js";
import { FakeGateway, GATEWAY, TOPICS } from "./gatewayFixture.js";
import { readJsonl, recordSeqs } from "./receiverHarness.js";

const resources = new Resources();
afterEach(() => resources.release());

/** A core resumed from what `store` read back, as the receiver service builds it. */
function resumedCore(gateway: FakeGateway, store: JsonlStore): ReceiverCore {
  const state = new MemoryReceiverState();
  for (const [id, restored] of store.restored?.gateways ?? []) {
    state.setHead(id, restored.head);
    for (const link of restored.linksAbove) {
      state.markStored(id, link);
    }
  }
  return new ReceiverCore({
    topics: TOPICS,
    keys: new ReceiverKeys([{ file: gateway.keyFile, source: "gateway.key", gateway: GATEWAY }]),
    state,
  });
}

function feed(core: ReceiverCore, gateway: FakeGateway, entries: readonly LedgerEntry[]): ReceiverOutcome[] {
  return gateway.messagesOf(entries).flatMap((message) => core.receive(message));
}

describe("JsonlStore", () => {
  it("writes one line per record and event, the body parsed, and nothing for duplicates", async () => {
    const path = join(await resources.tempDir(), "out.jsonl");
    const gateway = new FakeGateway();
    const entries = gateway.appendSamples(3);
    const store = new JsonlStore({ path });
    await store.start();
    const core = resumedCore(gateway, store);
    const [first, , third] = entries as [LedgerEntry, LedgerEntry, LedgerEntry];

    const outcomes = [...feed(core, gateway, [first, third]), ...feed(core, gateway, [first])];
    expect(await store.write(outcomes)).toEqual([]);
    await store.stop();

    const lines = await readJsonl(path);
    expect(lines.map((l) => [l.type, l.seq ?? l.fromSeq, l.state])).toEqual([
      ["record", 1, undefined],
      ["gap", 2, "open"],
      ["record", 3, undefined],
    ]);
    expect(lines[0]).toMatchObject({
      gateway: GATEWAY,
      device: "press-2",
      hash: first.hash,
      prev: first.prev,
    });
    expect(lines[0]?.body).toEqual(JSON.parse(first.body));
    expect(lines[0]).not.toHaveProperty("bodyText");
  });

  it("resumes after a restart: a hole open at the stop closes, resent records are duplicates, no false gap", async () => {
    const path = join(await resources.tempDir(), "out.jsonl");
    const gateway = new FakeGateway();
    const entries = gateway.appendSamples(20);
    const before = new JsonlStore({ path });
    await before.start();
    // 1..10 and 12..15 arrive before the stop; 11 was still on its way (another topic, say).
    await before.write(
      feed(resumedCore(gateway, before), gateway, [...entries.slice(0, 10), ...entries.slice(11, 15)]),
    );
    await before.stop();

    const after = new JsonlStore({ path });
    await after.start();
    expect(after.restored?.gateways.get(GATEWAY)).toMatchObject({
      head: { seq: 10, hash: entries[9]?.hash },
    });
    const core = resumedCore(gateway, after);
    // The broker redelivers 9..15 (some were not acked), then the rest comes.
    const outcomes = feed(core, gateway, entries.slice(8));
    expect(await after.write(outcomes)).toEqual([]);
    await after.stop();

    expect(outcomes.filter((o) => o.type === "gap" || o.type === "tamper")).toEqual([]);
    expect(outcomes.filter((o) => o.type === "duplicate").map((o) => o.seq)).toEqual([9, 10, 12, 13, 14, 15]);
    const lines = await readJsonl(path);
    expect(recordSeqs(lines).sort((a, b) => a - b)).toEqual(entries.map((e) => e.seq));
    expect(new Set(recordSeqs(lines)).size).toBe(20);
  });

  it("cuts off a last line left unfinished by a crash before appending", async () => {
    const path = join(await resources.tempDir(), "out.jsonl");
    const gateway = new FakeGateway();
    const entries = gateway.appendSamples(2);
    const before = new JsonlStore({ path });
    await before.start();
    await before.write(feed(resumedCore(gateway, before), gateway, entries.slice(0, 1)));
    await before.stop();
    await appendFile(path, '{"type":"record","gateway":"hm3-gw-01","seq":2,"ki');

    const after = new JsonlStore({ path });
    await after.start();
    expect(after.restored).toMatchObject({ lines: 1, unreadable: 0, tornBytes: 50 });
    await after.write(feed(resumedCore(gateway, after), gateway, entries.slice(1)));
    await after.stop();

    expect(recordSeqs(await readJsonl(path))).toEqual([1, 2]);
    expect((await readFile(path, "utf8")).endsWith("\n")).toBe(true);
  });

  it('writes to stdout with path "-" and reads nothing back', async () => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
    });
    const gateway = new FakeGateway();
    const store = new JsonlStore({ path: "-", stdout: out });
    await store.start();
    await store.write(feed(resumedCore(gateway, store), gateway, gateway.appendSamples(2)));
    await store.stop();

    expect(
      text
        .trim()
        .split("\n")
        .map((line) => (JSON.parse(line) as { seq: number }).seq),
    ).toEqual([1, 2]);
    expect(store.restored?.gateways.size).toBe(0);
  });
});
