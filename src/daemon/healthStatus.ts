/** The gateway-health fragment of systemd's STATUS= line, e.g. "cpu 12% mem 41% disk free 80% 48.2°C". */
import type { Sample } from "../records.js";

const LABELS: Readonly<Record<string, (value: number) => string>> = {
  cpu_percent: (v) => `cpu ${Math.round(v)}%`,
  memory_used_percent: (v) => `mem ${Math.round(v)}%`,
  disk_free_percent: (v) => `disk free ${Math.round(v)}%`,
  temperature: (v) => `${v.toFixed(1)}°C`,
};

export function summariseHealth(sample: Sample): string {
  return Object.entries(sample.values)
    .flatMap(([tag, reading]) => {
      const label = LABELS[tag];
      return label !== undefined && typeof reading.value === "number" ? [label(reading.value)] : [];
    })
    .join(" ");
}
