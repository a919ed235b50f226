import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomically } from '@imgcls/models/node';
import { ImgclsError } from '@imgcls/preprocess/errors';
import * as tf from '@tensorflow/tfjs-core';

/** Where training stands: enough to continue exactly where it stopped. */
export interface TrainingPosition {
  /** Optimizer steps taken so far. */
  readonly step: number;
  /** The epoch in progress (0-based). */
  readonly epoch: number;
  /** Batches of `epoch` already trained. */
  readonly batchInEpoch: number;
  /** Best validation accuracy so far and epochs since it improved (early stopping). */
  readonly bestValidationAccuracy?: number;
  readonly epochsWithoutImprovement?: number;
  /**
   * Wall time spent training up to this position, summed over every process that ran a part of it (steps,
   * validation and checkpoints; not loading data). Absent in checkpoints written before it existed.
   */
  readonly seconds?: number;
  /**
   * `seconds` when `epoch` began: with it, a resumed epoch's duration counts the earlier processes' part.
   * Absent in checkpoints written before it existed.
   */
  readonly epochStartedSeconds?: number;
}

/** The JSON half of a checkpoint; the tensors are in the weights file it names. */
interface CheckpointManifest extends TrainingPosition {
  readonly format: 'imgcls-checkpoint';
  readonly version: 1;
  /** A fingerprint of the training configuration: resuming under another configuration is refused. */
  readonly configKey: string;
  /**
   * Named settings that must also match on resume (augmentation, clipping, learning rate…), compared one by
   * one so a refusal can name what changed. Absent in checkpoints written before it existed: those resume
   * on `configKey` alone.
   */
  readonly settings?: Readonly<Record<string, unknown>>;
  readonly weightsFile: string;
  readonly tensors: ReadonlyArray<{
    name: string;
    shape: number[];
    dtype: 'float32' | 'int32';
    offset: number;
  }>;
}

/** A checkpoint cannot be resumed: unreadable, corrupt, or written by a different configuration. */
export class CheckpointError extends ImgclsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CHECKPOINT_INVALID', message, options);
  }
}

const MANIFEST = 'checkpoint.json';

/** Settings recorded in a checkpoint: JSON values by name. */
export type CheckpointSettings = Readonly<Record<string, unknown>>;

/**
 * Writes named tensors and the training position into `directory`. The weights file is written first
 * and the manifest that points to it last, each through a temporary file and a rename, so a crash at
 * any moment leaves the previous checkpoint whole. `settings` are recorded for {@link loadCheckpoint}.
 */
export async function saveCheckpoint(
  directory: string,
  position: TrainingPosition,
  configKey: string,
  tensors: ReadonlyMap<string, tf.Tensor>,
  settings?: CheckpointSettings,
): Promise<void> {
  await mkdir(directory, { recursive: true });
  const entries: Array<{
    name: string;
    shape: number[];
    dtype: 'float32' | 'int32';
    offset: number;
  }> = [];
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, tensor] of tensors) {
    const values = await tensor.data();
    const bytes = new Uint8Array(
      values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength),
    );
    entries.push({
      name,
      shape: [...tensor.shape],
      dtype: tensor.dtype === 'int32' ? 'int32' : 'float32',
      offset,
    });
    parts.push(bytes);
    offset += bytes.byteLength;
  }
  const joined = new Uint8Array(offset);
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.byteLength;
  }
  const weightsFile = `weights-${position.step}.bin`;
  await writeAtomically(join(directory, weightsFile), joined);
  const manifest: CheckpointManifest = {
    format: 'imgcls-checkpoint',
    version: 1,
    configKey,
    ...(settings ? { settings } : {}),
    weightsFile,
    tensors: entries,
    ...position,
  };
  await writeAtomically(join(directory, MANIFEST), JSON.stringify(manifest, null, 2));
  for (const file of await readdir(directory)) {
    if (/^weights-\d+\.bin$/.test(file) && file !== weightsFile)
      await rm(join(directory, file), { force: true });
  }
}

/** The settings whose recorded value differs from the current one, as readable lines. */
function changedSettings(saved: CheckpointSettings, current: CheckpointSettings): string[] {
  const names = [...new Set([...Object.keys(saved), ...Object.keys(current)])].sort();
  return names
    .filter((name) => JSON.stringify(saved[name]) !== JSON.stringify(current[name]))
    .map(
      (name) =>
        `${name} was ${JSON.stringify(saved[name]) ?? 'unset'}, now ${JSON.stringify(current[name]) ?? 'unset'}`,
    );
}

/**
 * Reads the checkpoint in `directory`, or undefined when there is none. When both the checkpoint and the
 * caller have `settings`, every setting must match.
 *
 * @throws CheckpointError when it is corrupt or was written under another configuration (naming the
 *   settings that changed).
 */
export async function loadCheckpoint(
  directory: string,
  configKey: string,
  settings?: CheckpointSettings,
): Promise<{ position: TrainingPosition; tensors: Map<string, tf.Tensor> } | undefined> {
  const raw = await readFile(join(directory, MANIFEST), 'utf8').catch(() => undefined);
  if (raw === undefined) return undefined;
  let manifest: CheckpointManifest;
  try {
    manifest = JSON.parse(raw) as CheckpointManifest;
  } catch (error) {
    throw new CheckpointError(`${join(directory, MANIFEST)} is not valid JSON.`, { cause: error });
  }
  if (manifest.format !== 'imgcls-checkpoint' || manifest.version !== 1)
    throw new CheckpointError(`${directory} does not hold an imgcls checkpoint.`);
  if (manifest.configKey !== configKey) {
    throw new CheckpointError(
      `The checkpoint in ${directory} was written by a different training configuration; use another --out or delete it to start over.`,
    );
  }
  const changed = manifest.settings && settings ? changedSettings(manifest.settings, settings) : [];
  if (changed.length > 0) {
    throw new CheckpointError(
      `The checkpoint in ${directory} was written with other settings (${changed.join('; ')}); train with the same settings to resume, or use another --out or delete it to start over.`,
    );
  }
  const bytes = await readFile(join(directory, manifest.weightsFile)).catch((error: unknown) => {
    throw new CheckpointError(`The checkpoint's weights file ${manifest.weightsFile} is missing.`, {
      cause: error,
    });
  });
  const tensors = new Map<string, tf.Tensor>();
  for (const entry of manifest.tensors) {
    const count = entry.shape.reduce((product, size) => product * size, 1);
    const byteLength = count * 4;
    if (entry.offset + byteLength > bytes.byteLength)
      throw new CheckpointError(`The checkpoint's weights file is truncated at ${entry.name}.`);
    const copy = bytes.buffer.slice(
      bytes.byteOffset + entry.offset,
      bytes.byteOffset + entry.offset + byteLength,
    );
    const values = entry.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy);
    tensors.set(entry.name, tf.tensor(values, entry.shape, entry.dtype));
  }
  const {
    step,
    epoch,
    batchInEpoch,
    bestValidationAccuracy,
    epochsWithoutImprovement,
    seconds,
    epochStartedSeconds,
  } = manifest;
  return {
    position: {
      step,
      epoch,
      batchInEpoch,
      ...(bestValidationAccuracy !== undefined ? { bestValidationAccuracy } : {}),
      ...(epochsWithoutImprovement !== undefined ? { epochsWithoutImprovement } : {}),
      ...(seconds !== undefined ? { seconds } : {}),
      ...(epochStartedSeconds !== undefined ? { epochStartedSeconds } : {}),
    },
    tensors,
  };
}
