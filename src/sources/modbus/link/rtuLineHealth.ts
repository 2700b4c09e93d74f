/**
 * Tells a misconfigured serial line from a dead slave (FAULTS 8.4 "Wrong baud or parity
 * (garbage): CRC-error streak -> health warning naming the likely misconfig").
 *
 * Evidence per read that got no valid frame:
 * - silent (no byte at all): says nothing about the line settings, the slave may be off or the
 *   wiring open; the streak is left as it is;
 * - bytes with the right unit, fc and length whose CRC fails: the characters arrive in the right
 *   places but with bits wrong, the signature of a parity or stop-bit mismatch (or noise:
 *   termination, grounding);
 * - bytes that never form the start of a reply: the receiver samples at the wrong rate, the
 *   signature of a baud rate mismatch.
 * Any frame with a valid CRC, even one that answers another request, proves the settings right
 * and ends the streak.
 */

/** Consecutive garbled reads before the health warning is raised. */
export const GARBLED_STREAK_THRESHOLD = 5;

export interface LineHealth {
  /** Consecutive reads that got garbled bytes (CRC errors or junk) and no valid frame. */
  readonly crcErrorStreak: number;
  /** Set once the streak reaches GARBLED_STREAK_THRESHOLD: which setting to check first. */
  readonly suspectMisconfig?: string;
}

export class RtuLineHealth {
  private streak = 0;
  private crcCandidates = 0;
  private junkBytes = 0;

  /** `lineSettings` describes the line for the message, e.g. "configured 19200 baud 8E1". */
  constructor(private readonly lineSettings: string) {}

  /** A frame with a valid CRC arrived: the line settings are right. */
  validFrame(): void {
    this.streak = 0;
    this.crcCandidates = 0;
    this.junkBytes = 0;
  }

  /** A read ended without a valid frame; the counts are what its bytes looked like. */
  readEndedWithout(evidence: { readonly crcErrors: number; readonly junkBytes: number }): void {
    if (evidence.crcErrors === 0 && evidence.junkBytes === 0) {
      return;
    }
    this.streak++;
    this.crcCandidates += evidence.crcErrors;
    this.junkBytes += evidence.junkBytes;
  }

  snapshot(): LineHealth {
    if (this.streak < GARBLED_STREAK_THRESHOLD) {
      return { crcErrorStreak: this.streak };
    }
    const suspectMisconfig =
      this.crcCandidates > 0
        ? `${this.streak} reads in a row got replies of the right shape that fail their CRC: check the ` +
          `parity and stop bits (${this.lineSettings}), then termination and grounding`
        : `${this.streak} reads in a row got only garbled bytes (${this.junkBytes}) that never form a ` +
          `reply: the baud rate probably differs from the devices' (${this.lineSettings})`;
    return { crcErrorStreak: this.streak, suspectMisconfig };
  }
}
