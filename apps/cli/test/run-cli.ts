import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const builtCli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** What a run of the built `imgcls` printed, and how it exited. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the built CLI in `cwd` without colours; when `interruptOn` appears in stderr, sends SIGINT like a
 * user pressing Ctrl-C. `env` is laid over this process' environment; an undefined value removes the
 * variable.
 */
export function runCli(
  args: string[],
  cwd: string,
  interruptOn?: RegExp,
  env: NodeJS.ProcessEnv = {},
): Promise<CliRun> {
  const environment: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...env };
  for (const [name, value] of Object.entries(env))
    if (value === undefined) delete environment[name];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [builtCli, ...args], { cwd, env: environment });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (interruptOn && !interrupted && interruptOn.test(stderr)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
