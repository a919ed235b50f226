import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ModelLoadError } from '../errors';
import { type FetchToCacheOptions, fetchToCache } from './fetch-to-cache';

/** The folder registry entries of kind `directory` resolve against: `IMGCLS_MODELS_DIR`, default `./models`. */
export function localModelsDir(): string {
  return process.env.IMGCLS_MODELS_DIR ?? resolve('models');
}

/** The folder of a model under {@link localModelsDir} when it holds a model.json, else undefined. */
export function localModel(name: string): string | undefined {
  const directory = join(localModelsDir(), name);
  return existsSync(join(directory, 'model.json')) ? directory : undefined;
}

/** True when something exists at the path. */
export function pathExists(path: string): boolean {
  return existsSync(path);
}

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
