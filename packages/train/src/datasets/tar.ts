import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { DatasetFormatError } from '../errors';

/** One regular file of a tar archive. */
export interface TarEntry {
  readonly name: string;
  readonly data: Uint8Array;
}

const BLOCK = 512;

function field(header: Uint8Array, offset: number, length: number): string {
  const bytes = header.subarray(offset, offset + length);
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
}

function octal(header: Uint8Array, offset: number, length: number, name: string): number {
  const text = field(header, offset, length).trim();
  const value = text === '' ? 0 : Number.parseInt(text, 8);
  if (!Number.isFinite(value))
    throw new DatasetFormatError(
      `Corrupt tar header for ${name || 'an entry'}: bad number "${text}".`,
    );
  return value;
}

function checksumMatches(header: Uint8Array): boolean {
  const stored = Number.parseInt(field(header, 148, 8).trim(), 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (header[i] as number);
  return stored === sum;
}

/**
 * Streams the regular files of a tar or tar.gz archive (ustar and GNU long names), holding one entry in
 * memory at a time. Directories and links are skipped.
 *
 * @throws DatasetFormatError for a corrupt header, a bad checksum, a truncated archive or bad gzip data.
 */
export async function* readTar(path: string): AsyncGenerator<TarEntry> {
  const source = createReadStream(path);
  const stream =
    path.endsWith('.gz') || path.endsWith('.tgz') ? source.pipe(createGunzip()) : source;
  // Arrived chunks are kept in a list and joined once per request, so a large entry (a 30 MB CIFAR-10
  // batch) costs one copy, not one per chunk.
  let buffer = new Uint8Array(0);
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let longName: string | undefined;
  const chunks = stream[Symbol.asyncIterator]();
  const fill = async (needed: number): Promise<boolean> => {
    while (buffer.length + pendingBytes < needed) {
      let next: IteratorResult<Buffer>;
      try {
        next = await chunks.next();
      } catch (error) {
        throw new DatasetFormatError(
          `${path} is not a valid gzip/tar archive: ${(error as Error).message}`,
          { cause: error },
        );
      }
      if (next.done) return false;
      pending.push(next.value);
      pendingBytes += next.value.length;
    }
    if (buffer.length < needed && pendingBytes > 0) {
      const joined = new Uint8Array(buffer.length + pendingBytes);
      joined.set(buffer);
      let at = buffer.length;
      for (const chunk of pending) {
        joined.set(chunk, at);
        at += chunk.length;
      }
      buffer = joined;
      pending = [];
      pendingBytes = 0;
    }
    return true;
  };
  try {
    for (;;) {
      if (!(await fill(BLOCK)))
        throw new DatasetFormatError(
          `${path} ends without the tar end-of-archive marker: it is truncated.`,
        );
      const header = buffer.slice(0, BLOCK);
      buffer = buffer.subarray(BLOCK);
      if (header.every((byte) => byte === 0)) return;
      if (!checksumMatches(header))
        throw new DatasetFormatError(
          `${path}: a tar header has a bad checksum; the archive is corrupt.`,
        );
      const prefix = field(header, 345, 155);
      const name =
        longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
      longName = undefined;
      const size = octal(header, 124, 12, name);
      const type = String.fromCharCode(header[156] as number);
      const padded = Math.ceil(size / BLOCK) * BLOCK;
      if (!(await fill(padded)))
        throw new DatasetFormatError(`${path} is truncated inside ${name}.`);
      const data = buffer.slice(0, size);
      buffer = buffer.subarray(padded);
      if (type === 'L') longName = new TextDecoder().decode(data).replace(/\0+$/, '');
      else if (type === '0' || type === '\0') yield { name, data };
    }
  } finally {
    // Also when the caller stops early (breaks out of its loop): close the file now, not at collection.
    source.destroy();
  }
}
