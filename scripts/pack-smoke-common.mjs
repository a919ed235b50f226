// What the parts of pack-smoke share: where the repository is, one way to report a result (so the
// failure count that decides the exit code lives in one place) and how child processes run.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));

let failures = 0;
/** How many checks have failed so far. */
export const failureCount = () => failures;
export const say = (message) => console.log(`pack-smoke: ${message}`);
export const fail = (message) => {
  failures += 1;
  console.error(`pack-smoke: FAILED: ${message}`);
};

export const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
export const run = (command, args, options = {}) =>
  execFileSync(command, args, { encoding: 'utf8', stdio: 'pipe', ...options });
/** A child process's own words on failure: stderr, else the error. */
export const reason = (error) =>
  String(error.stderr || error.stdout || error.message || error).trim();

/** Environment for code run in a scratch project: no models folder, an empty download cache. */
export const childEnv = (cacheDir) => {
  const env = { ...process.env, IMGCLS_CACHE_DIR: cacheDir };
  delete env.IMGCLS_MODELS_DIR;
  return env;
};

/** Installs into a scratch project, letting npm's own output through. */
export const npmInstall = (cwd, args) =>
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...args], {
    cwd,
    stdio: 'inherit',
  });
