// The shape of one `berth` command. main.ts dispatches through a table of these
// (commands/index.ts), so a new command is one file plus one line in that table.

/** A mistake in how the command was called: main prints it with the usage and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** True for any usage error, including ones thrown by other modules' own UsageError class. */
export function isUsageError(err: unknown): boolean {
  return err instanceof Error && err.name === 'UsageError';
}

/** One command of the `berth` CLI. */
export interface Command {
  /** The word after `berth`, e.g. "mount". */
  readonly name: string;
  /** One line for `berth --help`. */
  readonly summary: string;
  /** The full `berth <name> --help` text: synopsis, flags, examples. */
  readonly help: string;
  /** Runs with the arguments after the command word; resolves to the exit code (0 ok, 1 failure). */
  run(args: string[]): Promise<number>;
}

/** Exit codes every command uses. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;
