/**
 * Seeded synthetic machine data for the autoencoder tests (issue #6: seeded generators in the
 * tests): five tags driven by two hidden causes (load and ambient), so each tag follows the others
 * (y = a·x + noise) at very different scales, and a way to break those correlations without
 * leaving any tag's normal range.
 */
import { seededRandom } from "../../src/analytics/random.js";

export const FEATURES = ["current", "voltage", "power", "temperature", "fan"] as const;
export const DIMS = FEATURES.length;

/** The tags at a given load and ambient (in standard deviations), with measurement noise. */
function machineRow(load: number, ambient: number, noise: () => number): Float64Array {
  return Float64Array.of(
    20 + 4 * load + 0.2 * noise(), // current, A
    400 - 3 * load + 0.5 * noise(), // voltage sags a little under load, V
    13.8 + 2.7 * load + 0.15 * noise(), // power follows current, kW
    45 + 5 * load + 3 * ambient + 0.3 * noise(), // winding temperature, °C
    0.6 + 0.05 * ambient + 0.03 * load + 0.005 * noise(), // fan duty, 0..1
  );
}

function normalDraws(seed: number): () => number {
  const random = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Normal operation: `n` rows. */
export function machineRows(n: number, seed: number): Float64Array[] {
  const normal = normalDraws(seed);
  return Array.from({ length: n }, () => machineRow(normal(), normal(), normal));
}

/**
 * Rows where one tag (each in turn) reads as it would at a load 2 to 3 standard deviations nearer
 * the middle than the other tags' load: within its usual range on its own, wrong in combination.
 */
export function brokenRows(n: number, seed: number): Float64Array[] {
  const normal = normalDraws(seed);
  const random = seededRandom(seed + 1000);
  return Array.from({ length: n }, (_, r) => {
    const load = normal();
    const ambient = normal();
    const row = machineRow(load, ambient, normal);
    const otherLoad = load - Math.sign(load) * (2 + random());
    const f = r % DIMS;
    row[f] = machineRow(otherLoad, ambient, normal)[f] as number;
    return row;
  });
}

/** Share of `errors` above `threshold`. */
export function shareAbove(errors: Float64Array, threshold: number): number {
  return errors.filter((e) => e > threshold).length / errors.length;
}
