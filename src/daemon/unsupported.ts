/**
 * Sections the schema accepts but whose part is not built yet are refused by `run`, never
 * silently ignored (issue #2). Each later issue removes its entry when its part lands.
 */
import type { ConfigPath } from "../config/configIssue.js";
import type { Config } from "../config/schema/index.js";

interface Pending {
  readonly path: ConfigPath;
  readonly issue: number;
  readonly what: string;
  readonly present: (config: Config, written: ReadonlySet<string>) => boolean;
}

const PENDING: readonly Pending[] = [
  {
    path: ["observability", "status"],
    issue: 7,
    what: "the status endpoint",
    present: (c) => c.observability.status.enabled,
  },
];

/**
 * `written` holds the top-level keys present in the file (or set from the environment), so that
 * sections that have defaults are refused only when the technician configured them.
 */
export function unsupportedSections(
  config: Config,
  written: ReadonlySet<string>,
): { path: ConfigPath; message: string }[] {
  return PENDING.filter((pending) => pending.present(config, written)).map((pending) => ({
    path: pending.path,
    message: `not supported yet: ${pending.what} arrives with issue #${pending.issue}; remove this section to run now (check accepts it)`,
  }));
}
