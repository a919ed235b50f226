import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { ModelLoadError } from '../errors';
import { type FetchToCacheOptions, fetchToCache } from './fetch-to-cache';

/**
 * The folder of a model given as a folder or as the path of its model.json.
 *
 * @throws ModelLoadError when nothing is there, or it is another file.
 */
export async function modelDirectory(path: string): Promise<string> {
  const stats = await stat(path).catch(() => undefined);
  if (!stats)
    throw new ModelLoadError(
      `No model at ${path}: expected a folder with model.json, or a registered id.`,
    );
  if (stats.isDirectory()) return path;
  if (basename(path) !== 'model.json')
    throw new ModelLoadError(`${path} is not a model.json or a folder holding one.`);
  return dirname(path);
}

/** The bytes of a local file or of an http(s) URL (downloaded once into the cache). */
export async function readBytes(
  pathOrUrl: string,
  options: FetchToCacheOptions = {},
): Promise<Uint8Array> {
  const path = /^https?:\/\//i.test(pathOrUrl) ? await fetchToCache(pathOrUrl, options) : pathOrUrl;
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    throw new ModelLoadError(`Cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}
