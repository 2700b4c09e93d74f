/**
 * Receiver benchmark (issue #7): the upstream side on gateway traffic sealed exactly as a gateway
 * seals it (support/benchGateway.ts). Prints JSON.
 *
 *   core:      ReceiverCore.receive alone, records/s and µs per message, chain mode "memory" and
 *              "store", envelopes of 1 and 10 records, one gateway; and 50 gateways interleaved
 *              (memory mode). Best of ROUNDS after a warm-up pass (support/receiverCoreBench.ts).
 *   store:     PgRecordStore.write on the real PostgreSQL (127.0.0.1:5432, database test, schemas
 *              of its own, dropped): 100,000 records in writes of 500, one store and two stores
 *              splitting the stream as a $share group does; the chain audit over the 100,000 rows.
 *   endToEnd:  paced publisher -> the system mosquitto -> ReceiverService -> PostgreSQL, one
 *              receiver and two in one $share group: records/s and the process's peak RSS.
 *
 *   npm run bench:receiver     (builds, then runs; BENCH_RECEIVER_PHASES=core,store,e2e)
 */
import { readFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { sampleBodyBytes } from "./support/benchGateway.js";
import { type CoreCase, measureCore } from "./support/receiverCoreBench.js";
import { benchEndToEnd } from "./support/receiverEndToEnd.js";
import { benchStore } from "./support/receiverStoreBench.js";

const CORE_RECORDS = Number(process.env.BENCH_RECEIVER_CORE_RECORDS ?? 20_000);
const CORE_ROUNDS = 5;
const STORE_RECORDS = Number(process.env.BENCH_RECEIVER_STORE_RECORDS ?? 100_000);
const E2E_RECORDS = Number(process.env.BENCH_RECEIVER_E2E_RECORDS ?? 100_000);
const PHASES = (process.env.BENCH_RECEIVER_PHASES ?? "core,store,e2e").split(",");

const CORE_CASES: readonly CoreCase[] = [
  { chain: "memory", recordsPerEnvelope: 1, gateways: 1 },
  { chain: "memory", recordsPerEnvelope: 10, gateways: 1 },
  { chain: "store", recordsPerEnvelope: 1, gateways: 1 },
  { chain: "store", recordsPerEnvelope: 10, gateways: 1 },
  { chain: "memory", recordsPerEnvelope: 1, gateways: 50 },
  { chain: "memory", recordsPerEnvelope: 10, gateways: 50 },
];

/** The 1, 5 and 15 minute load averages: other work on the machine skews every figure. */
function loadAverage(): string {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
}

async function main(): Promise<void> {
  const loadAtStart = loadAverage();
  // End to end first: its peak RSS is then the receivers' and the publisher's, not the heap the
  // other phases' envelopes and outcomes grew.
  const endToEnd = PHASES.includes("e2e")
    ? await benchEndToEnd({ records: E2E_RECORDS, recordsPerEnvelope: 10 })
    : undefined;
  const store = PHASES.includes("store")
    ? await benchStore({ records: STORE_RECORDS, recordsPerEnvelope: 10, recordsPerWrite: 500 })
    : undefined;
  const core = PHASES.includes("core")
    ? CORE_CASES.map((spec) => measureCore(spec, CORE_RECORDS, CORE_ROUNDS))
    : undefined;
  const result = {
    bench: "receiver",
    machine: {
      nproc: availableParallelism(),
      cpu: cpus()[0]?.model,
      node: process.version,
      loadAverageAtStart: loadAtStart,
      loadAverageAtEnd: loadAverage(),
    },
    setup: {
      encryption: "ascon-aead128",
      sampleBodyBytes: sampleBodyBytes(),
      coreRounds: `best of ${CORE_ROUNDS} after a warm-up pass, ${CORE_RECORDS} records a pass`,
    },
    core,
    store,
    endToEnd,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

await main();
