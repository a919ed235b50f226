import { setWasmBackendWithThreads } from '@imgcls/wasm-grad/node';

/**
 * Starts the wasm backend with the `--threads N` of the command line, or every core (at most 8) as the
 * PyTorch peer uses them; `--threads 1` is tfjs' stock backend. Returns the threads it has.
 */
export async function startWasmFromArguments(): Promise<number> {
  const at = process.argv.indexOf('--threads');
  const { threads } = await setWasmBackendWithThreads(
    at >= 0 ? { threads: Number(process.argv[at + 1]) } : {},
  );
  return threads;
}
