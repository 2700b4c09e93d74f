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

/** Empty since the status endpoint landed (issue #7 item 3); kept for the parts still to come. */
const PENDING: readonly Pending[] = [];

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
