import wabtModule from 'wabt';

/**
 * The binaries of a WebAssembly text module (SIMD and threads enabled) as the package ships them: as
 * written, and with its shared memory import made a plain one, for where shared memory is unavailable
 * (browser pages that are not cross-origin isolated).
 */
export async function watToBinaries(text, name) {
  const wabt = await wabtModule();
  const features = { simd: true, threads: true, bulk_memory: true };
  const compile = (source) => {
    const parsed = wabt.parseWat(name, source, features);
    try {
      parsed.resolveNames();
      parsed.validate(features);
      return parsed.toBinary({ log: false, write_debug_names: false }).buffer;
    } finally {
      parsed.destroy();
    }
  };
  const unshared = text.replace(/\(memory (\d+ \d+) shared\)/g, '(memory $1)');
  if (unshared === text) throw new Error(`${name}: no shared memory import to make plain`);
  return { shared: compile(text), unshared: compile(unshared) };
}
