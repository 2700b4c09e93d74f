/**
 * The two ways a key operation fails (issue #3). Messages name the file or the id and the
 * problem, and never carry key bytes: commands print them as they are.
 */

/** A key file that cannot be used: unreadable, too open, not a key file, or malformed. */
export class KeyFileError extends Error {
  override readonly name = "KeyFileError";
  readonly file: string;
  readonly problem: string;

  constructor(file: string, problem: string, options?: ErrorOptions) {
    super(`${file}: ${problem}`, options);
    this.file = file;
    this.problem = problem;
  }
}

/** A key that is not there: unknown key id, a device a device key file does not hold, a bad id. */
export class KeyLookupError extends Error {
  override readonly name = "KeyLookupError";
}

/** A value for a message, quoted and cut short: ids come from files and command lines. */
export function quoteForMessage(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 70 ? `${text.slice(0, 67)}...` : text;
}
