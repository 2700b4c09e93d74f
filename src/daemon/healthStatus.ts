/** The gateway-health fragment of systemd's STATUS= line, e.g. "cpu 12% mem 41% disk free 80% 48.2°C". */
import type { Sample } from "../records.js";

const LABELS: Readonly<Record<string, (value: number) => string>> = {
  cpu_percent: (v) => `cpu ${Math.round(v)}%`,
  memory_used_percent: (v) => `mem ${Math.round(v)}%`,
  disk_free_percent: (v) => `disk free ${Math.round(v)}%`,
  temperature: (v) => `${v.toFixed(1)}°C`,
};

export function summariseHealth(samples: readonly Sample[]): string {
  return samples
    .flatMap((sample) => {
      const label = LABELS[sample.tag];
      return label !== undefined && typeof sample.value === "number" ? [label(sample.value)] : [];
    })
    .join(" ");
}
