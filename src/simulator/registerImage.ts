/**
 * The plant's Modbus register image (issue #7 item 1): every signal encoded into the words or bits
 * of its unit and table as the plant file places it (uint16, int16, uint32, float32 in ABCD or
 * CDAB word order, value / scale). Rebuilt as a whole after each step, so a multi-register value
 * is never served half old and half new.
 */
import type { Plant } from "./plant.js";
import type { RegisterSpec } from "./plantSchema.js";
import { signalsOf } from "./plantSignals.js";

export type SimTable = RegisterSpec["table"];

/** Words (or bits as 0/1) by "unit/table/address". */
export class RegisterImage {
  private words = new Map<string, number>();
  private readonly units: ReadonlySet<number>;

  constructor(private readonly plant: Plant) {
    this.units = new Set(plant.spec.machines.map((m) => m.unitId));
  }

  hasUnit(unitId: number): boolean {
    return this.units.has(unitId);
  }

  /** Reads one word or bit; unmapped addresses of a known unit read 0, as gaps in a PLC's map do. */
  read(unitId: number, table: SimTable, address: number): number {
    return this.words.get(`${unitId}/${table}/${address}`) ?? 0;
  }

  refresh(): void {
    const words = new Map<string, number>();
    this.plant.spec.machines.forEach((machine, index) => {
      const values = this.plant.values(machine.name);
      for (const signal of signalsOf(machine, index)) {
        const r = signal.register;
        encodeValue(values[signal.name] ?? 0, r).forEach((word, offset) => {
          words.set(`${machine.unitId}/${r.table}/${r.address + offset}`, word);
        });
      }
    });
    this.words = words;
  }
}

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));

export function encodeValue(value: number, register: RegisterSpec): number[] {
  const raw = Number.isFinite(value) ? value / (register.scale ?? 1) : 0;
  switch (register.type) {
    case "bool":
      return [raw !== 0 ? 1 : 0];
    case "uint16":
      return [clamp(Math.round(raw), 0, 0xffff)];
    case "int16":
      return [clamp(Math.round(raw), -0x8000, 0x7fff) & 0xffff];
    case "uint32": {
      const n = clamp(Math.round(raw), 0, 0xffff_ffff);
      return order([Math.floor(n / 0x10000), n % 0x10000], register);
    }
    case "float32": {
      const buffer = Buffer.alloc(4);
      buffer.writeFloatBE(raw);
      return order([buffer.readUInt16BE(0), buffer.readUInt16BE(2)], register);
    }
  }
}

function order(words: [number, number], register: RegisterSpec): number[] {
  return register.order === "CDAB" ? [words[1], words[0]] : words;
}
