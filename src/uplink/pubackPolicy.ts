/**
 * What the forwarder does with an MQTT 5 PUBACK that carries a failure reason code (issue #5: a
 * refused publish must not advance the acked cursor silently). MQTT 5 §3.4.2.1 lists the codes a
 * PUBACK may carry; 0x00 and 0x10 ("no matching subscribers") are successes.
 *
 * - deadletter: the broker refuses this message as it is, so sending the same bytes again cannot
 *   succeed: 0x90 topic name invalid, 0x99 payload format invalid. The record becomes a
 *   `deadletter` ledger entry naming its seq and the code, and the cursor moves on.
 * - retry: everything else (0x80 unspecified, 0x83 implementation specific, 0x87 not authorized,
 *   0x91 packet identifier in use, 0x97 quota exceeded, and codes this list does not know). They
 *   depend on the broker's state or its configuration (a quota, an ACL), which an operator can
 *   fix; the record stays in the ledger and is sent again after a backoff that doubles up to the
 *   reconnect maxDelay, while nothing newer is sent. The backlog grows visibly meanwhile.
 */
export type RefusalAction = "retry" | "deadletter";

const PERMANENT = new Set([0x90, 0x99]);

export const PUBACK_REASONS: Readonly<Record<number, string>> = {
  128: "unspecified error",
  131: "implementation specific error",
  135: "not authorized",
  144: "topic name invalid",
  145: "packet identifier in use",
  151: "quota exceeded",
  153: "payload format invalid",
};

export function refusalAction(reasonCode: number): RefusalAction {
  return PERMANENT.has(reasonCode) ? "deadletter" : "retry";
}

export function describeReasonCode(reasonCode: number): string {
  const hex = `0x${reasonCode.toString(16).padStart(2, "0")}`;
  const name = PUBACK_REASONS[reasonCode];
  return name === undefined ? hex : `${hex} ${name}`;
}
