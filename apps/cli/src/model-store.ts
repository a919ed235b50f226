import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  CDN_LAYOUTS,
  DEFAULT_MODEL_SETTINGS,
  type ModelLocation,
  modelSettings,
  registeredModels,
  resolveModel,
} from '@imgcls/models';
import { defaultCacheDir, modelDirectory } from '@imgcls/models/node';
import { modelStore } from '@imgcls/models/store';
import { ImgclsError } from '@imgcls/preprocess';
import { UsageError } from './errors';

/** The npm CDN layouts `--cdn` chooses from. */
export type CdnName = keyof typeof CDN_LAYOUTS;

/** The names `--cdn` accepts, in the order help and errors list them. */
export const CDN_NAMES = Object.keys(CDN_LAYOUTS) as CdnName[];

/** The root program's flags that configure the model store (`--no-remote` arrives as `remote: false`). */
export interface StoreFlags {
  readonly modelsDir?: string;
  readonly cacheDir?: string;
  readonly remoteHost?: string;
  readonly cdn?: string;
  readonly offline?: boolean;
  readonly remote?: boolean;
}

/** What the flags are read against: tests pass their own environment and working directory. */
export interface StoreContext {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /**
   * The command writes model folders into the models folder (`train`, `models import`), so a models
   * folder named explicitly may not exist yet.
   */
  readonly createsModels?: boolean;
}

/** Where the models folder came from, for messages. */
let modelsFolderOrigin: string | undefined;

const isDirectory = (path: string) => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
};

/** An http(s) origin with an optional path prefix, or undefined. */
function httpUrl(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return /^https?:$/.test(url.protocol) && url.host ? url : undefined;
  } catch {
    return undefined;
  }
}

/** The models folder the flags name: `--models-dir`, `$IMGCLS_MODELS_DIR`, or `./models` when it exists. */
function modelsFolderFrom(
  flags: StoreFlags,
  env: NodeJS.ProcessEnv,
  cwd: string,
  createsModels: boolean,
): { folder: string; origin: string } | undefined {
  const named = flags.modelsDir
    ? { value: flags.modelsDir, origin: '--models-dir' }
    : env.IMGCLS_MODELS_DIR
      ? { value: env.IMGCLS_MODELS_DIR, origin: '$IMGCLS_MODELS_DIR' }
      : undefined;
  if (!named) {
    const local = resolve(cwd, 'models');
    return isDirectory(local) ? { folder: local, origin: './models' } : undefined;
  }
  const folder = resolve(cwd, named.value);
  const exists = existsSync(folder);
  if (exists && !isDirectory(folder))
    throw new UsageError(
      `${named.origin} ${named.value} is a file, not a folder`,
      'name a folder of model folders (<folder>/<model>/model.json)',
    );
  if (!exists && !createsModels)
    throw new UsageError(
      `${named.origin} ${named.value} does not exist (${folder})`,
      'name an existing folder of model folders (<folder>/<model>/model.json), or leave it unset to use ./models, installed model packages and the CDN',
    );
  return { folder, origin: named.origin };
}

/** The download cache folder the flags name (`--cache-dir`, `$IMGCLS_CACHE_DIR`), if any. */
function cacheDirFrom(flags: StoreFlags, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const value = flags.cacheDir ?? (env.IMGCLS_CACHE_DIR || undefined);
  const cacheDir = value === undefined ? undefined : resolve(cwd, value);
  if (cacheDir && existsSync(cacheDir) && !isDirectory(cacheDir))
    throw new UsageError(
      `${flags.cacheDir ? '--cache-dir' : '$IMGCLS_CACHE_DIR'} ${value} is a file, not a folder`,
      'name a folder for the download cache (it is created when missing)',
    );
  return cacheDir;
}

/** The CDN host and path layout the flags choose (`--cdn`, `--remote-host`), else jsDelivr's. */
function remoteFrom(flags: StoreFlags): { remoteHost: string; remotePathTemplate: string } {
  let layout: { remoteHost: string; remotePathTemplate: string } = {
    remoteHost: DEFAULT_MODEL_SETTINGS.remoteHost,
    remotePathTemplate: DEFAULT_MODEL_SETTINGS.remotePathTemplate,
  };
  if (flags.cdn !== undefined) {
    // commander's choices() rejects other names first; this keeps the function safe on its own.
    if (!(CDN_NAMES as string[]).includes(flags.cdn))
      throw new UsageError(
        `--cdn must be one of ${CDN_NAMES.join(', ')}, got "${flags.cdn}"`,
        'or name a mirror with --remote-host',
      );
    layout = CDN_LAYOUTS[flags.cdn as CdnName];
  }
  if (flags.remoteHost === undefined) return layout;
  if (!httpUrl(flags.remoteHost))
    throw new UsageError(
      `--remote-host must be an http(s) URL, got "${flags.remoteHost}"`,
      `e.g. ${CDN_NAMES.map((name) => CDN_LAYOUTS[name].remoteHost).join(' or ')}, or the URL serving a folder written by imgcls models mirror`,
    );
  return { ...layout, remoteHost: flags.remoteHost.replace(/\/+$/, '') };
}

/**
 * Checks the store flags and writes them into `modelSettings`, which every later load of the process
 * reads (the classifier's included). Unset flags fall back to `$IMGCLS_MODELS_DIR` / `$IMGCLS_CACHE_DIR`,
 * and the models folder to `./models` when that folder exists (where `train` and `models import` write).
 *
 * @throws UsageError for a value that cannot be used: nothing falls back silently.
 */
export function applyStoreFlags(flags: StoreFlags, context: StoreContext = {}): void {
  const env = context.env ?? process.env;
  const cwd = context.cwd ?? process.cwd();
  const models = modelsFolderFrom(flags, env, cwd, context.createsModels === true);
  const cacheDir = cacheDirFrom(flags, env, cwd);
  const remote = remoteFrom(flags);
  modelsFolderOrigin = models?.origin;
  Object.assign(modelSettings, {
    modelsFolder: models?.folder,
    cacheDir,
    ...remote,
    offline: flags.offline === true,
    allowRemote: flags.remote !== false,
  });
}

/** The models folder in force and where it came from (`--models-dir`, `$IMGCLS_MODELS_DIR`, `./models`), if any. */
export function modelsFolder(): { folder: string; origin: string } | undefined {
  const folder = modelSettings.modelsFolder;
  return folder ? { folder, origin: modelsFolderOrigin ?? 'modelSettings' } : undefined;
}

/** Where `train` and `models import` write a new model by default: `<models folder>/<name>`, else `./models/<name>`. */
export function newModelFolder(name: string): string {
  return join(modelSettings.modelsFolder ?? resolve('models'), name);
}

/** The download cache folder in force. */
export function cacheFolder(): string {
  return modelSettings.cacheDir ?? defaultCacheDir();
}

/** What dataset downloads (`--data cifar10`) take from the same flags: the cache folder and offline mode. */
export function downloadOptions(): { cacheDir: string; offline: boolean } {
  return { cacheDir: cacheFolder(), offline: modelSettings.offline };
}

/** A command needs a model's files on disk, and a registry id would only come from a download. */
export class ModelNotLocalError extends ImgclsError {
  constructor(
    readonly id: string,
    readonly location: ModelLocation,
    purpose: string,
    hint: string,
  ) {
    super(
      'MODEL_NOT_LOCAL',
      `${purpose} needs a model folder on disk, but "${id}" is in no models folder and no installed package: it would be downloaded from ${location.location}. ${hint}`,
    );
  }
}

/** A local model folder and where it was found. */
export interface LocalModel {
  readonly folder: string;
  /** `path`: the reference was a folder; `models-folder`: `<models folder>/<name>`; `package`: an installed model package. */
  readonly source: 'path' | 'models-folder' | 'package';
}

/**
 * The folder of a model on disk: a path as given; a registry id wherever the store would load it from
 * (the models folder or its installed package); else a folder of that name in the models folder.
 *
 * @throws ModelNotLocalError when a registry id would only be downloaded; UnknownModelError for a name
 *   that is neither registered nor in the models folder; the store's errors (ModelNotFoundError,
 *   ModelPackageVersionError, ChecksumMismatchError for a damaged package).
 */
export async function localModelFolder(
  reference: string,
  purpose: string,
  hint = 'Install its model package, put a copy in the models folder (--models-dir), or pass a model folder.',
): Promise<LocalModel> {
  if (existsSync(reference)) return { folder: await modelDirectory(reference), source: 'path' };
  const registered = registeredModels().some((entry) => entry.id === reference);
  if (!registered) {
    const folder = modelSettings.modelsFolder && join(modelSettings.modelsFolder, reference);
    if (folder && existsSync(join(folder, 'model.json')))
      return { folder, source: 'models-folder' };
    resolveModel(reference); // throws UnknownModelError listing the registered ids
  }
  // Only local copies count here: downloads are allowed in the question so that the answer names the
  // remote copy instead of failing on --offline or --no-remote; nothing is fetched.
  const location = await modelStore.locate(reference, { allowRemote: true, offline: false });
  if (location.source === 'models-folder' || location.source === 'package')
    return { folder: location.location, source: location.source };
  throw new ModelNotLocalError(reference, location, purpose, hint);
}

/**
 * What the CLI hands the library for a `--model` value: an existing file or folder as an absolute path
 * (so a folder named like `colours` is not taken for a registry id), a name that is not registered but
 * is a folder in the models folder as that folder, anything else (ids, URLs) as typed.
 */
export function modelReference(input: string): string {
  if (/^https?:\/\//i.test(input)) return input;
  if (existsSync(input)) return resolve(input);
  if (!registeredModels().some((entry) => entry.id === input) && modelSettings.modelsFolder) {
    const folder = join(modelSettings.modelsFolder, input);
    if (existsSync(join(folder, 'model.json'))) return folder;
  }
  return input;
}
