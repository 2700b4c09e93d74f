/**
 * Stop signals that arrive while the daemon is still loading its modules (systemd may stop a
 * unit at any moment). Installed first thing by cli.ts for `run` only, so that such a stop ends
 * in a clean exit 0 rather than death by the signal's default action; `run` takes over from here.
 */
let received: NodeJS.Signals | undefined;
const record = (signal: NodeJS.Signals): void => {
  received ??= signal;
};

export function captureEarlyStopSignals(): void {
  process.on("SIGTERM", record);
  process.on("SIGINT", record);
}

/** Stops capturing; returns the first stop signal received so far, if any. */
export function releaseEarlyStopSignals(): NodeJS.Signals | undefined {
  process.off("SIGTERM", record);
  process.off("SIGINT", record);
  return received;
}
