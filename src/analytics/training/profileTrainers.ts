/**
 * Trainers of the autoencoder and the power profile (issue #6 items 1c, 2 and 5); the isolation
 * forest's is in trainers.ts. The power profile needs its readings in time order (dwell times,
 * transitions), so it validates on the last tenth of the window rather than every tenth row.
 */
import { trainAutoencoder } from "../autoencoder/index.js";
import { fitGatewayProfile, type GatewayReading, type GatewayWorkload } from "../gatewayProfile/index.js";
import { fitPowerProfile, PowerProfileMonitor, type PowerReading } from "../power/index.js";
import { ShiftCalendar } from "../shiftCalendar.js";
import { cardFor, requireRows, type Trainer } from "./trainers.js";

export const trainAutoencoderModel: Trainer = async (input, progress) => {
  const settings = input.machine.detectors.autoencoder;
  if (settings === undefined) {
    throw new RangeError("no autoencoder settings");
  }
  const dims = input.plan.tags.length;
  requireRows(input, 20);
  progress("autoencoder", 0, "fitting");
  const model = await trainAutoencoder(
    { values: input.rows, dims },
    {
      hiddenUnits: settings.hiddenUnits,
      epochs: settings.epochs,
      thresholdPercentile: settings.thresholdPercentile,
      seed: settings.seed,
      backend: input.backend,
      features: input.plan.tags,
    },
    {
      onEpoch: ({ epoch, epochs, loss, valLoss }) =>
        progress(
          "autoencoder",
          epoch / epochs,
          `epoch ${epoch}/${epochs}, loss ${loss.toPrecision(3)}${valLoss === undefined ? "" : `, validation ${valLoss.toPrecision(3)}`}`,
        ),
    },
  );
  const { training, validation } = model;
  return {
    card: cardFor(input, {
      rows: training.fitRows,
      skipped: training.skippedRows + input.incomplete,
      threshold: model.threshold,
      thresholdPercentile: model.thresholdPercentile,
      seed: settings.seed,
      validation: {
        validationRows: training.validationRows,
        trainLoss: validation.trainLoss,
        validationLoss: validation.validationLoss,
        validationErrorP99: validation.errorPercentiles.p99,
        validationFalseAlarmRate: validation.aboveThreshold,
      },
      notes: [
        `hidden units ${settings.hiddenUnits.join("-")}, ${settings.epochs} epochs, backend ${input.backend}`,
      ],
    }),
    model: model.toJSON(),
  };
};

/** Readings of the power plan's rows: [power, current, voltage, powerFactor], NaN when absent. */
function powerReadings(rows: Float64Array, times: Float64Array, from: number, to: number): PowerReading[] {
  const readings: PowerReading[] = [];
  const optional = (value: number) => (Number.isFinite(value) ? value : undefined);
  for (let r = from; r < to; r++) {
    readings.push({
      ts: times[r] as number,
      power: rows[r * 4] as number,
      current: optional(rows[r * 4 + 1] as number),
      voltage: optional(rows[r * 4 + 2] as number),
      powerFactor: optional(rows[r * 4 + 3] as number),
    });
  }
  return readings;
}

export const trainPowerProfile: Trainer = (input, progress) => {
  const power = input.machine.power;
  if (power === undefined) {
    throw new RangeError("no power settings");
  }
  const count = requireRows(input, 200);
  progress("power-profile", 0, "clustering operating states");
  const split = Math.floor(count * 0.9);
  const seed = 1;
  const profile = fitPowerProfile(powerReadings(input.rows, input.times, 0, split), {
    seed,
    tags: {
      power: power.power,
      ...(power.current === undefined ? {} : { current: power.current }),
      ...(power.voltage === undefined ? {} : { voltage: power.voltage }),
      ...(power.powerFactor === undefined ? {} : { powerFactor: power.powerFactor }),
    },
    nominalVoltage: power.nominalVoltage,
  });
  // Validation: the held-out last tenth, through a fresh monitor, as the live detector sees it.
  const calendar =
    power.schedule === undefined || input.shifts.length === 0
      ? undefined
      : new ShiftCalendar(input.shifts, input.timeZone);
  const monitor = new PowerProfileMonitor();
  let alerting = 0;
  const held = powerReadings(input.rows, input.times, split, count);
  for (const reading of held) {
    const inSchedule =
      calendar === undefined || power.schedule === undefined
        ? undefined
        : calendar.inSchedule(reading.ts, power.schedule);
    const findings = profile.score(reading, { inSchedule }, monitor);
    alerting += findings.some((finding) => finding.probability >= input.machine.thresholds.low) ? 1 : 0;
  }
  progress(
    "power-profile",
    1,
    `${profile.states.length} states: ${profile.states.map((s) => s.name).join(", ")}`,
  );
  return {
    card: cardFor(input, {
      rows: split,
      skipped: input.incomplete,
      threshold: null,
      thresholdPercentile: null,
      seed,
      validation: {
        states: profile.states.length,
        validationRows: held.length,
        validationAlertingShare: held.length === 0 ? 0 : alerting / held.length,
      },
      notes: profile.states.map(
        (state) =>
          `${state.name}: median ${Number(state.median.toPrecision(4))}, band ${Number(state.power.lo.toPrecision(4))}-${Number(state.power.hi.toPrecision(4))}, ${(state.share * 100).toFixed(1)} % of readings`,
      ),
    }),
    model: profile.toJSON(),
  };
};

/** The gateway profile from rows of [samples/s, record bytes/s, cpu, load, temperature, tx, rx]. */
export const trainGatewayProfile: Trainer = (input, progress) => {
  const count = requireRows(input, 100);
  progress("gateway-profile", 0, "fitting workload relations");
  const optional = (value: number) => (Number.isFinite(value) ? value : undefined);
  const rows: (GatewayReading & GatewayWorkload)[] = [];
  const { rows: values, times } = input;
  for (let r = 0; r < count; r++) {
    const at = (i: number) => values[r * 7 + i] as number;
    rows.push({
      ts: times[r] as number,
      samplesPerSecond: at(0),
      uplinkBytesPerSecond: at(1),
      cpuPercent: optional(at(2)),
      load1m: optional(at(3)),
      temperature: optional(at(4)),
      txRate: optional(at(5)),
      rxRate: optional(at(6)),
    });
  }
  const seed = 1;
  const profile = fitGatewayProfile(rows, { seed });
  progress("gateway-profile", 1, "done");
  return {
    card: cardFor(input, {
      rows: count,
      skipped: input.incomplete,
      threshold: null,
      thresholdPercentile: null,
      seed,
      validation: { rows: count },
    }),
    model: profile.toJSON(),
  };
};
