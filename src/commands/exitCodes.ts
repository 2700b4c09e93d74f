/** Exit codes of every command (DESIGN.md, CLI surface). */
export const ExitCode = {
  ok: 0,
  /** A fatal error at run time. */
  fatal: 1,
  /** Bad config, bad usage, or a command that is not available yet. */
  usage: 2,
  /** Integrity: a tampered ledger or an envelope that failed to open. */
  tamper: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const DEFAULT_CONFIG_PATH = "/etc/edgewarden/config.yaml";

export function defaultConfigPath(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.EDGEWARDEN_CONFIG ?? DEFAULT_CONFIG_PATH;
}
