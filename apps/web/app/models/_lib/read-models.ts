import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Calibration } from '@imgcls/metrics';
import { type ModelMetadata, parseModelMetadata } from '@imgcls/models';

/**
 * The repository's models/ folder. `next build` and `next start` run in apps/web; IMGCLS_MODELS_DIR
 * points elsewhere, as it does for the classifier in Node.
 */
export const MODELS_DIR = process.env.IMGCLS_MODELS_DIR ?? join(process.cwd(), '../../models');

/** One epoch of `history.jsonl`, as `imgcls train` appends it. */
export interface EpochRecord {
  readonly epoch: number;
  readonly loss: number;
  readonly validationAccuracy?: number;
  readonly validationLoss?: number;
}

/** What a model folder holds; every part is optional because training and evaluation land separately. */
export interface ModelArtifacts {
  readonly folder: string;
  readonly metadata?: ModelMetadata;
  /** Why metadata.json could not be read, when it exists but is invalid. */
  readonly metadataProblem?: string;
  /** The folder holds the model's weights (model.json), not only its reports. */
  readonly served: boolean;
  readonly card?: string;
  readonly history?: readonly EpochRecord[];
  /** Row-major test-set confusion counts (true class × predicted class), from `test-confusion.json`. */
  readonly testConfusion?: readonly number[];
  /** Calibration of the test-set predictions (`evaluate()`'s `calibration`), from `test-calibration.json`. */
  readonly testCalibration?: Calibration;
}

/** Everything the Models page shows, read once when the page is built. */
export interface ModelsOverview {
  /** `models/COMPARISON.md`, when the models have been compared. */
  readonly comparison?: string;
  readonly models: readonly ModelArtifacts[];
}

const readText = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : undefined);

function readJson<T>(path: string): T | undefined {
  const text = readText(path);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

function readModel(folder: string): ModelArtifacts {
  const directory = join(MODELS_DIR, folder);
  let metadata: ModelMetadata | undefined;
  let metadataProblem: string | undefined;
  try {
    const raw = readJson<unknown>(join(directory, 'metadata.json'));
    if (raw !== undefined) metadata = parseModelMetadata(raw);
  } catch (error) {
    metadataProblem = (error as Error).message;
  }
  const history = readText(join(directory, 'history.jsonl'))
    ?.split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as EpochRecord);
  const card = readText(join(directory, 'MODEL_CARD.md'));
  const testConfusion = readJson<number[]>(join(directory, 'test-confusion.json'));
  const testCalibration = readJson<Calibration>(join(directory, 'test-calibration.json'));
  return {
    folder,
    served: existsSync(join(directory, 'model.json')),
    ...(metadata ? { metadata } : {}),
    ...(metadataProblem ? { metadataProblem } : {}),
    ...(card ? { card } : {}),
    ...(history?.length ? { history } : {}),
    ...(testConfusion ? { testConfusion } : {}),
    ...(testCalibration ? { testCalibration } : {}),
  };
}

/** Reads `models/COMPARISON.md` and every model folder (one with a metadata.json or model.json). */
export function readModelsOverview(): ModelsOverview {
  const folders = existsSync(MODELS_DIR)
    ? readdirSync(MODELS_DIR, { withFileTypes: true })
        .filter(
          (entry) =>
            entry.isDirectory() &&
            ['metadata.json', 'model.json'].some((file) =>
              existsSync(join(MODELS_DIR, entry.name, file)),
            ),
        )
        .map((entry) => entry.name)
        .sort()
    : [];
  const comparison = readText(join(MODELS_DIR, 'COMPARISON.md'));
  return { ...(comparison ? { comparison } : {}), models: folders.map(readModel) };
}
