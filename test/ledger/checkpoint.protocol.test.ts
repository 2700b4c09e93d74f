/**
 * docs/protocol.md §7.2, §8.2 and §8.5 are what the code computes (issue #5): the plaintext of
 * the worked example is a real ledger entry whose hash is its chain hash and whose body is what
 * sampleToJson writes, and the checkpoint example's key, MAC input, MAC and entry are what our
 * code and node:crypto (HKDF, HMAC) compute independently. A checkpoint written from the page
 * verifies with the chain walker.
 */
import { createHash, createHmac, hkdfSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { checkpointKeyInfo, deriveCheckpointKey, keyRingOf } from "../../src/crypto/keys/index.js";
import { ChainWalker } from "../../src/ledger/chainWalker.js";
import {
  checkpointFields,
  checkpointMac,
  checkpointMacInput,
  parseCheckpointBody,
} from "../../src/ledger/checkpoint.js";
import {
  chainHash,
  type LedgerEntry,
  makeEntry,
  NO_DEVICE,
  parseEntryText,
  splitEntryText,
} from "../../src/ledger/ledgerEntry.js";
import { sampleFromJson, sampleToJson } from "../../src/sources/sampleJson.js";
import {
  exampleValue,
  protocolDoc,
  protocolExample,
  protocolExampleValues,
} from "../fixtures/protocol/protocolDoc.js";

const doc = protocolDoc();
const fromHex = (text: string) => Uint8Array.from(Buffer.from(text, "hex"));
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("docs/protocol.md §7.2 and §8.2, the plaintext is a ledger entry", () => {
  const text = protocolExample("plaintext", doc);
  const entry = parsedEntry(text);
  const hashed = protocolExampleValues("entry-hash", doc);

  it("parses as an entry of the envelope's seq and device, with a body sampleToJson writes", () => {
    const inputs = protocolExampleValues("envelope-inputs", doc);
    expect(entry).toMatchObject({
      seq: Number(exampleValue(inputs, "seq")),
      device: exampleValue(inputs, "dev"),
      kind: "sample",
    });
    expect(sampleToJson(sampleFromJson(entry.body))).toBe(entry.body);
  });

  it("states the canonical text and the hash §8.2 defines, which the code computes", () => {
    const split = splitEntryText(text);
    expect(exampleValue(hashed, "canonical")).toBe(split?.canonical);
    expect(exampleValue(hashed, "canonical")).toBe(`${text.slice(0, -75)}}`);
    expect(exampleValue(hashed, "prev")).toBe(entry.prev);
    expect(exampleValue(hashed, "hash")).toBe(entry.hash);
    const independent = createHash("sha256")
      .update(fromHex(exampleValue(hashed, "prev")))
      .update(exampleValue(hashed, "canonical"), "utf8")
      .digest("hex");
    expect(independent).toBe(entry.hash);
    expect(chainHash(entry.prev, split?.canonical ?? "")).toBe(entry.hash);
    expect(makeEntry(entry.seq, entry, entry.prev).text).toBe(text);
  });
});

describe("docs/protocol.md §8.5, the checkpoint worked example", () => {
  const values = protocolExampleValues("checkpoint", doc);
  const value = (name: string) => exampleValue(values, name);
  const master = fromHex(value("master"));
  const ofSeq = Number(value("ofSeq"));

  it("derives the checkpoint key as the page says, like node:crypto", () => {
    const info = Buffer.from(`checkpoint-key\0${value("keyId")}`, "utf8");
    expect(value("info")).toBe(info.toString("hex"));
    expect(value("info")).toBe(hex(checkpointKeyInfo(value("keyId"))));
    expect(value("prk")).toBe(createHmac("sha256", "edgewarden/v1").update(master).digest("hex"));
    expect(value("prk")).toBe(exampleValue(protocolExampleValues("key-derivation", doc), "prk"));
    expect(value("checkpointKey")).toBe(
      hex(new Uint8Array(hkdfSync("sha256", master, "edgewarden/v1", info, 32))),
    );
    expect(value("checkpointKey")).toBe(hex(deriveCheckpointKey(master, value("keyId"))));
  });

  it("lays out the MAC input and computes the MAC as the page says, like node:crypto", () => {
    expect(value("ofHash")).toBe(exampleValue(protocolExampleValues("entry-hash", doc), "hash"));
    expect(value("macInput")).toBe(`${ofSeq.toString(16).padStart(16, "0")}${value("ofHash")}`);
    expect(value("macInput")).toBe(hex(checkpointMacInput(ofSeq, value("ofHash"))));
    const key = fromHex(value("checkpointKey"));
    expect(value("mac")).toBe(
      createHmac("sha256", key)
        .update(fromHex(value("macInput")))
        .digest("hex"),
    );
    expect(value("mac")).toBe(checkpointMac(key, ofSeq, value("ofHash")));
  });

  it("shows the checkpoint entry the ledger appends after the §7.2 entry, and it verifies", () => {
    const previous = protocolExample("plaintext", doc);
    const shown = parsedEntry(value("entry"));
    expect(shown).toMatchObject({
      seq: ofSeq + 1,
      kind: "checkpoint",
      device: NO_DEVICE,
      prev: value("ofHash"),
    });
    expect(parseCheckpointBody(shown.body)).toEqual({
      ofSeq,
      ofHash: value("ofHash"),
      kid: value("keyId"),
      mac: value("mac"),
    });
    const ring = keyRingOf(
      {
        kind: "gateway",
        active: value("keyId"),
        keys: [{ id: value("keyId"), created: "2026-01-01T00:00:00.000Z", secret: master.slice() }],
      },
      "protocol.md master",
    );
    const rebuilt = makeEntry(
      ofSeq + 1,
      checkpointFields(ring, ofSeq, value("ofHash"), shown.ts, shown.clockSynced),
      value("ofHash"),
    );
    expect(rebuilt.text).toBe(value("entry"));
    const walker = new ChainWalker({ keys: ring });
    walker.visit(ofSeq, previous);
    walker.visit(ofSeq + 1, value("entry"));
    expect(walker.summary()).toMatchObject({
      ok: true,
      records: 2,
      checkpoints: { checked: 1, bad: 0, keyed: true },
    });
  });
});

function parsedEntry(text: string): LedgerEntry {
  const entry = parseEntryText(text);
  if (entry === undefined) {
    throw new Error(`docs/protocol.md: not a ledger entry: ${text}`);
  }
  return entry;
}
