/** The binaries of a WebAssembly text module: as written (shared memory) and with a plain memory. */
export function watToBinaries(
  text: string,
  name: string,
): Promise<{ shared: Uint8Array; unshared: Uint8Array }>;
