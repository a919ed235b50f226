import type { Writable } from 'node:stream';

/** Where and how the CLI writes: decided once from the environment and the global flags. */
export interface Terminal {
  /** Machine-readable results (JSON, CSV) and human-readable results alike go here. */
  readonly out: (line: string) => void;
  /** Progress, notices and errors go here, so piping stdout stays clean. */
  readonly err: (line: string) => void;
  /** True when progress bars and in-place updates may be drawn (stderr is a TTY and not quiet). */
  readonly interactive: boolean;
  /** False when NO_COLOR is set, output is not a TTY, or `--no-color` was given. */
  readonly color: boolean;
  /** `--quiet`: only results and errors. */
  readonly quiet: boolean;
  /** Wraps text in an ANSI style when colour is on. */
  readonly style: (name: StyleName, text: string) => string;
  /** Draws a one-line progress bar in place on an interactive terminal; a no-op otherwise. */
  readonly progress: (fraction: number, label: string) => void;
  /** Ends the current progress line, if one is drawn. */
  readonly endProgress: () => void;
}

/** The few styles the CLI uses. */
export type StyleName = 'bold' | 'dim' | 'red' | 'green' | 'yellow';

const ANSI: Record<StyleName, [number, number]> = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
};

/** How a terminal is made; tests pass their own streams and environment. */
export interface TerminalOptions {
  readonly stdout?: Writable & { isTTY?: boolean; columns?: number };
  readonly stderr?: Writable & { isTTY?: boolean; columns?: number };
  readonly env?: NodeJS.ProcessEnv;
  readonly quiet?: boolean;
  /** `false` from `--no-color`. */
  readonly color?: boolean;
}

/** Makes the terminal the CLI writes through, honouring NO_COLOR, FORCE_COLOR, TTY and --quiet. */
export function createTerminal(options: TerminalOptions = {}): Terminal {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const env = options.env ?? process.env;
  const quiet = options.quiet ?? false;
  // https://no-color.org: any non-empty NO_COLOR disables colour; FORCE_COLOR turns it on for pipes.
  const color =
    options.color !== false &&
    !env.NO_COLOR &&
    (Boolean(env.FORCE_COLOR) || (Boolean(stdout.isTTY) && env.TERM !== 'dumb'));
  const interactive = !quiet && Boolean(stderr.isTTY) && env.TERM !== 'dumb' && !env.CI;
  let progressDrawn = false;

  const style = (name: StyleName, text: string) =>
    color ? `\u001b[${ANSI[name][0]}m${text}\u001b[${ANSI[name][1]}m` : text;

  return {
    out: (line) => stdout.write(`${line}\n`),
    err: (line) => {
      if (progressDrawn) {
        stderr.write('\r\u001b[2K');
        progressDrawn = false;
      }
      stderr.write(`${line}\n`);
    },
    interactive,
    color,
    quiet,
    style,
    progress: (fraction, label) => {
      if (!interactive) return;
      const width = Math.max(10, Math.min(30, (stderr.columns ?? 80) - label.length - 10));
      const clamped = Math.min(1, Math.max(0, fraction));
      const filled = Math.round(clamped * width);
      const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
      stderr.write(`\r\u001b[2K${bar} ${(clamped * 100).toFixed(0).padStart(3)}% ${label}`);
      progressDrawn = true;
    },
    endProgress: () => {
      if (progressDrawn) stderr.write('\n');
      progressDrawn = false;
    },
  };
}
