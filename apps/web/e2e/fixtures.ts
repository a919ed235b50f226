import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  importTflite,
  type ModelPackagePin,
  parseLabelsFile,
  resolveModel,
  tfliteMetadata,
} from '@imgcls/models';
import { directoryHandler, writeMetadata } from '@imgcls/models/node';
import { decodeImage } from '@imgcls/preprocess';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { sharedData } from '../../../tooling/test-data';
import { DEMO_MODELS } from '../app/_demo/protocol';

/** The repository's models/ folder: the model packages' sources, and what the Models page reads. */
export const REPO_MODELS = fileURLToPath(new URL('../../../models/', import.meta.url));
/** The models folder the app serves at /models/ (the modelsFolder setting): imported models only. */
const PUBLIC_MODELS = fileURLToPath(new URL('../public/models/', import.meta.url));
/** The app's own npm CDN mirror, served at /cdn/: the model packages it depends on, in the CDN layout. */
const PUBLIC_CDN = fileURLToPath(new URL('../public/cdn/', import.meta.url));

/** A file as playwright's setInputFiles takes it. */
export interface TestFile {
  readonly name: string;
  readonly mimeType: string;
  readonly buffer: Buffer;
}

/** One of the real photos of the shared data, re-encoded as PNG (browsers do not all read BMP). */
export async function photoPng(name: string): Promise<TestFile | undefined> {
  const path = sharedData(`photos/${name}.bmp`);
  if (!path) return undefined;
  const photo = await decodeImage(path);
  const buffer = await sharp(photo.data, {
    raw: { width: photo.width, height: photo.height, channels: 3 },
  })
    .png()
    .toBuffer();
  return { name: `${name}.png`, mimeType: 'image/png', buffer };
}

/**
 * The served copy of MobileNetV2 for this run. Without network access the hosted model cannot load, so
 * where the shared data has the real TFLite model it is imported into public/models/ (the app's models
 * folder) the way `imgcls models import` and the build would put it there, unless the build already
 * ships an imported copy. Returns what to undo.
 */
export async function serveMobileNet(): Promise<{ served: boolean; cleanUp: () => void }> {
  const served = join(PUBLIC_MODELS, 'mobilenet-v2');
  if (existsSync(join(served, 'model.json'))) return { served: true, cleanUp: () => {} };
  const tflite = sharedData('mobilenet-v2/mobilenet_v2_1.0_224_quant.tflite');
  const labels = sharedData('mobilenet-v2/imagenet_labels.txt');
  if (!tflite || !labels) return { served: false, cleanUp: () => {} };
  await tf.setBackend('wasm');
  const imported = importTflite(new Uint8Array(readFileSync(tflite)), { name: 'mobilenet-v2' });
  mkdirSync(served, { recursive: true });
  await imported.model.save(directoryHandler(served));
  await writeMetadata(
    served,
    tfliteMetadata(imported, {
      id: 'mobilenet-v2',
      labels: parseLabelsFile(readFileSync(labels, 'utf8')),
    }),
  );
  imported.model.dispose();
  return { served: true, cleanUp: () => rmSync(served, { recursive: true, force: true }) };
}

/** A model package the build mirrored: the registry id, its pin, and the path of its files on the app. */
export interface MirroredModel {
  readonly id: string;
  readonly pin: ModelPackagePin;
  /** e.g. `/cdn/npm/@imgcls/model-cifar10-airbench-float16@0.1.0/` */
  readonly path: string;
}

/**
 * The model the CIFAR-10 panel loads: its first candidate whose pinned package the build mirrored into
 * public/cdn/ (every pinned file present), if any.
 */
export function mirroredCifarModel(): MirroredModel | undefined {
  const cifar = DEMO_MODELS.find((model) => model.id === 'cifar10');
  for (const id of cifar?.candidates ?? []) {
    const source = resolveModel(id).source;
    if (source.kind !== 'package') continue;
    const pin = source.package;
    const folder = `npm/${pin.name}@${pin.version}/`;
    if (Object.keys(pin.files).every((file) => existsSync(join(PUBLIC_CDN, folder, file))))
      return { id, pin, path: `/cdn/${folder}` };
  }
  return undefined;
}

/** The first test image of each CIFAR-10 class, as JPEG files, read from the shared archive. */
export function cifarTestImages(
  labels: readonly string[],
): Array<TestFile & { readonly label: string }> | undefined {
  const archive = sharedData('cifar10/cifar10-jpg.tar.gz');
  if (!archive) return undefined;
  const members = labels.map((label) => `cifar10/test/${label}/0000.jpg`);
  const directory = mkdtempSync(join(tmpdir(), 'imgcls-web-e2e-'));
  try {
    // The test split comes first in the archive, so tar stops after a few hundred kilobytes.
    execFileSync('tar', ['-xzf', archive, '-C', directory, '--occurrence=1', ...members]);
    return labels.map((label, index) => ({
      label,
      name: `${label}.jpg`,
      mimeType: 'image/jpeg',
      buffer: readFileSync(join(directory, members[index] as string)),
    }));
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** Files that are not (usable) images, each with the error code the page must explain. */
export async function badFiles(): Promise<Array<TestFile & { readonly code: string }>> {
  const picture = await sharp({
    create: { width: 64, height: 64, channels: 3, background: '#3366cc' },
  })
    .png()
    .toBuffer();
  // 51 megapixels, more than the demo's 50 MP limit; one colour, so the PNG stays small.
  const huge = await sharp({
    create: { width: 8000, height: 6400, channels: 3, background: '#88aa44' },
  })
    .png({ compressionLevel: 9 })
    .toBuffer();
  return [
    {
      name: 'notes.jpg',
      mimeType: 'image/jpeg',
      buffer: Buffer.from('these are not pixels'),
      code: 'INVALID_IMAGE',
    },
    {
      name: 'truncated.png',
      mimeType: 'image/png',
      buffer: picture.subarray(0, Math.floor(picture.length / 2)),
      code: 'INVALID_IMAGE',
    },
    { name: 'huge.png', mimeType: 'image/png', buffer: huge, code: 'IMAGE_TOO_LARGE' },
  ];
}
