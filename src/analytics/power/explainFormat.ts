/**
 * Number and duration wording for the one-sentence explanations of issue #6 item 3 ("explanation
 * naming the tags that drove it"), shared by the power and gateway profiles so a technician reads
 * the same style everywhere: "spindle_kw 41.2 above the loaded band 18.0–30.0 for 4 readings (3 min)".
 */
import type { RuleRun } from "./rulePersistence.js";

/** Three significant figures or so: 338, 41.2, 0.62. */
export function formatValue(x: number): string {
  const a = Math.abs(x);
  if (a >= 100) {
    return x.toFixed(0);
  }
  if (a >= 1) {
    return x.toFixed(1);
  }
  return x.toFixed(2);
}

export function formatBand(lo: number, hi: number): string {
  return `${formatValue(lo)}–${formatValue(hi)}`;
}

export function formatDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 120) {
    return `${Math.round(s)} s`;
  }
  if (s < 7200) {
    return `${Math.round(s / 60)} min`;
  }
  return `${(s / 3600).toFixed(1)} h`;
}

/** "for 4 readings (3 min)". */
export function formatRun(run: RuleRun, ts: number): string {
  return `for ${run.count} readings (${formatDuration(ts - run.sinceTs)})`;
}
