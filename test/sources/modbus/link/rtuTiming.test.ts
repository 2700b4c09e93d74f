import { describe, expect, it } from "vitest";
import { bitsPerCharacter, describeLine, t35Ms } from "../../../../src/sources/modbus/link/rtuTiming.js";

describe("RTU inter-frame silence t3.5 (serial line v1.02 §2.5.1.1)", () => {
  it("counts start, data, parity and stop bits per character", () => {
    expect(bitsPerCharacter({ dataBits: 8, parity: "even", stopBits: 1 })).toBe(11);
    expect(bitsPerCharacter({ dataBits: 8, parity: "none", stopBits: 2 })).toBe(11);
    expect(bitsPerCharacter({ dataBits: 8, parity: "none", stopBits: 1 })).toBe(10);
    expect(bitsPerCharacter({ dataBits: 7, parity: "odd", stopBits: 1 })).toBe(10);
  });

  it("is 3.5 character times up to 19200 baud", () => {
    expect(t35Ms({ baudRate: 9600, dataBits: 8, parity: "even", stopBits: 1 })).toBeCloseTo(4.0104, 4);
    expect(t35Ms({ baudRate: 19200, dataBits: 8, parity: "even", stopBits: 1 })).toBeCloseTo(2.0052, 4);
    expect(t35Ms({ baudRate: 19200, dataBits: 8, parity: "none", stopBits: 1 })).toBeCloseTo(1.8229, 4);
    expect(t35Ms({ baudRate: 1200, dataBits: 8, parity: "even", stopBits: 1 })).toBeCloseTo(32.0833, 4);
  });

  it("is the fixed 1.75 ms above 19200 baud and when the baud is unknown (RTU over TCP)", () => {
    expect(t35Ms({ baudRate: 38400, dataBits: 8, parity: "even", stopBits: 1 })).toBe(1.75);
    expect(t35Ms({ baudRate: 115200 })).toBe(1.75);
    expect(t35Ms({})).toBe(1.75);
  });

  it("describes the line for messages", () => {
    expect(describeLine({ baudRate: 19200, dataBits: 8, parity: "even", stopBits: 1 })).toBe(
      "configured 19200 baud 8E1",
    );
    expect(describeLine({ baudRate: 9600, dataBits: 8, parity: "none", stopBits: 2 })).toBe(
      "configured 9600 baud 8N2",
    );
    expect(describeLine({})).toBe("set on the serial server");
  });
});
