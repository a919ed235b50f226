import { InvalidArgumentError } from '@imgcls/preprocess/errors';
import type { ModelPackagePin } from './pins';

/**
 * Where model bytes come from, in the spirit of transformers.js' `env`: one object for the whole
 * process ({@link modelSettings}), which every per-call option overrides field by field.
 */
export interface ModelStoreSettings {
  /**
   * A folder of model folders (`<modelsFolder>/<folder>/model.json`), tried first for registry ids: a
   * path in Node, a URL (absolute or relative to the page) in browsers. Default: none; in Node,
   * `$IMGCLS_MODELS_DIR` when set.
   */
  modelsFolder: string | undefined;
  /** Node: the download cache folder. Default: `$IMGCLS_CACHE_DIR`, else `~/.cache/imgcls`. */
  cacheDir: string | undefined;
  /** Browsers: the Cache Storage bucket downloads are kept in. */
  cacheName: string;
  /** Origin (and optional path prefix) of the npm CDN or of a company mirror, e.g. `https://cdn.jsdelivr.net`. */
  remoteHost: string;
  /** Path of a package file on `remoteHost`, with `{package}`, `{version}` and `{file}` placeholders. */
  remotePathTemplate: string;
  /** May models missing locally be downloaded (from the CDN, or a registry entry's hosted URL)? */
  allowRemote: boolean;
  /** Never touch the network: local files and the download cache only. */
  offline: boolean;
}

/** Per-call overrides of {@link ModelStoreSettings}: any subset of its fields. */
export type ModelStoreOptions = Partial<ModelStoreSettings>;

/** The npm CDN layouts the store knows: pass one's fields as settings to switch CDN. */
export const CDN_LAYOUTS = {
  jsdelivr: {
    remoteHost: 'https://cdn.jsdelivr.net',
    remotePathTemplate: '/npm/{package}@{version}/{file}',
  },
  unpkg: { remoteHost: 'https://unpkg.com', remotePathTemplate: '/{package}@{version}/{file}' },
} as const;

/** The settings a fresh process starts with. */
export const DEFAULT_MODEL_SETTINGS: Readonly<ModelStoreSettings> = {
  modelsFolder: undefined,
  cacheDir: undefined,
  cacheName: 'imgcls-models',
  ...CDN_LAYOUTS.jsdelivr,
  allowRemote: true,
  offline: false,
};

/** The process-wide settings of the model store; assign fields to change them for every later load. */
export const modelSettings: ModelStoreSettings = { ...DEFAULT_MODEL_SETTINGS };

const PLACEHOLDERS = ['{package}', '{version}', '{file}'] as const;

/**
 * {@link modelSettings} with `options` laid over it, checked.
 *
 * @throws InvalidArgumentError for a remote host that is not an http(s) URL, a template missing a
 *   placeholder, or a flag that is not a boolean.
 */
export function effectiveSettings(options: ModelStoreOptions = {}): ModelStoreSettings {
  // Only the store's own fields: callers pass wider option objects (a classifier's load options).
  const defined = Object.fromEntries(
    Object.keys(DEFAULT_MODEL_SETTINGS)
      .map((key) => [key, options[key as keyof ModelStoreOptions]])
      .filter(([, value]) => value !== undefined),
  );
  const settings: ModelStoreSettings = { ...modelSettings, ...defined };
  if (!/^https?:\/\/[^/]/i.test(settings.remoteHost))
    throw new InvalidArgumentError(
      `remoteHost must be an http(s) URL such as ${CDN_LAYOUTS.jsdelivr.remoteHost}, got "${settings.remoteHost}".`,
    );
  const missing = PLACEHOLDERS.filter((name) => !settings.remotePathTemplate.includes(name));
  if (missing.length > 0)
    throw new InvalidArgumentError(
      `remotePathTemplate must contain ${PLACEHOLDERS.join(', ')}; "${settings.remotePathTemplate}" lacks ${missing.join(', ')}.`,
    );
  for (const flag of ['allowRemote', 'offline'] as const)
    if (typeof settings[flag] !== 'boolean')
      throw new InvalidArgumentError(
        `${flag} must be true or false, got ${String(settings[flag])}.`,
      );
  return settings;
}

/** The URL of one file of a pinned model package on the configured CDN or mirror. */
export function packageFileUrl(
  settings: Pick<ModelStoreSettings, 'remoteHost' | 'remotePathTemplate'>,
  pin: Pick<ModelPackagePin, 'name' | 'version'>,
  file: string,
): string {
  const path = settings.remotePathTemplate
    .replace('{package}', pin.name)
    .replace('{version}', pin.version)
    .replace('{file}', file);
  return `${settings.remoteHost.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
