/** OEE per machine and shift (issue #6 item 4). */
export { type CounterStep, counterStep } from "./counterStep.js";
export {
  computeOee,
  type GoodSource,
  type OeeFigures,
  type OeeTotals,
  oeeSample,
  type Ratio,
} from "./oeeFigures.js";
export {
  counterValue,
  flagValue,
  type OeeMachineConfig,
  type OeeReading,
  oeeReadingFromSample,
} from "./oeeReading.js";
export { OEE_STATE_VERSION, type OeeTrackerState, type OeeTrackerStats, parseOeeState } from "./oeeState.js";
export {
  OEE_DEFAULTS,
  type OeePeriod,
  OeeTracker,
  type OeeTrackerOptions,
  oeeCalendar,
} from "./oeeTracker.js";
