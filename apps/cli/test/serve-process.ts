import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const builtCli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** A running `imgcls serve` started by a test. */
export interface ServeProcess {
  /** `http://127.0.0.1:<port>`, as the command printed it. */
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything printed so far. */
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the exit code (null when killed by a signal) once the process has ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILLs the process if it still runs (for afterAll). */
  readonly kill: () => void;
}

/** How a test starts the server. */
export interface ServeOptions {
  readonly cwd: string;
  /** Laid over this process' environment; an undefined value removes the variable. */
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
  /**
   * The whole command line, instead of the built CLI's `serve --port 0` followed by `args` (e.g. a
   * deployed copy's `imgcls serve …`, run as another user).
   */
  readonly command?: readonly string[];
}

/**
 * Starts the built `imgcls serve` on port 0 in `cwd`, waits for the URL it prints and for `/readyz` to
 * answer 200, and returns it. Rejects with what it printed when it exits or is not ready in time.
 */
export async function startServe(args: string[], options: ServeOptions): Promise<ServeProcess> {
  const environment: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...options.env };
  for (const [name, value] of Object.entries(options.env ?? {}))
    if (value === undefined) delete environment[name];
  const [program, ...programArgs] = options.command ?? [
    process.execPath,
    builtCli,
    'serve',
    '--port',
    '0',
    ...args,
  ];
  const child = spawn(program as string, programArgs, { cwd: options.cwd, env: environment });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      kill();
      reject(new Error(`imgcls serve printed no URL in time:\n${stderr}`));
    }, options.timeoutMs ?? 90_000);
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`imgcls serve exited with ${code} before listening:\n${stderr}`));
    });
  });
  for (let attempt = 0; ; attempt++) {
    const ready = await fetch(`${url}/readyz`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ready) break;
    if (attempt > 200) {
      kill();
      throw new Error(`${url}/readyz never answered 200:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, child, stdout: () => stdout, stderr: () => stderr, exited, kill };
}
