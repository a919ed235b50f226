import * as tf from '@tensorflow/tfjs-core';
import type { DecodedImage } from './decoded';
import { InvalidArgumentError } from './errors';
import type { PreprocessPreset } from './preset';

/** The region of the source image that fills the model input, and where it lands (letterbox). */
export interface Placement {
  /** Source crop: top, left, height, width in source pixels. */
  readonly crop: readonly [number, number, number, number];
  /** Size the crop is resized to before padding. */
  readonly resized: readonly [number, number];
  /** Padding [top, bottom, left, right] around the resized crop (letterbox only). */
  readonly padding: readonly [number, number, number, number];
}

/** Where an image of the given size goes in the preset's input, per its resize mode. Pure geometry. */
export function placement(
  imageHeight: number,
  imageWidth: number,
  preset: PreprocessPreset,
): Placement {
  const { height, width } = preset;
  if (preset.resize === 'stretch')
    return {
      crop: [0, 0, imageHeight, imageWidth],
      resized: [height, width],
      padding: [0, 0, 0, 0],
    };
  if (preset.resize === 'center-crop') {
    // The largest centred region with the input's aspect ratio.
    const scale = Math.min(imageHeight / height, imageWidth / width);
    const cropHeight = Math.max(1, Math.round(height * scale));
    const cropWidth = Math.max(1, Math.round(width * scale));
    const top = Math.floor((imageHeight - cropHeight) / 2);
    const left = Math.floor((imageWidth - cropWidth) / 2);
    return {
      crop: [top, left, cropHeight, cropWidth],
      resized: [height, width],
      padding: [0, 0, 0, 0],
    };
  }
  const scale = Math.min(height / imageHeight, width / imageWidth);
  const resizedHeight = Math.max(1, Math.min(height, Math.round(imageHeight * scale)));
  const resizedWidth = Math.max(1, Math.min(width, Math.round(imageWidth * scale)));
  const top = Math.floor((height - resizedHeight) / 2);
  const left = Math.floor((width - resizedWidth) / 2);
  return {
    crop: [0, 0, imageHeight, imageWidth],
    resized: [resizedHeight, resizedWidth],
    padding: [top, height - resizedHeight - top, left, width - resizedWidth - left],
  };
}

/**
 * Maps pixel values in 0..255 to the preset's value range and standardises them:
 * `((p / 255) · (range[1] − range[0]) + range[0] − mean) / std`. Works on any shape ending in 3 channels.
 */
export function normalize(pixels: tf.Tensor, preset: PreprocessPreset): tf.Tensor {
  return tf.tidy(() => {
    const [low, high] = preset.range;
    let values = tf.add(tf.mul(tf.cast(pixels, 'float32'), (high - low) / 255), low);
    if (preset.mean) values = tf.sub(values, tf.tensor1d([...preset.mean]));
    if (preset.std) values = tf.div(values, tf.tensor1d([...preset.std]));
    return values;
  });
}

/** Resizes (per the preset's mode) one decoded image to a float32 [height, width, 3] tensor of 0..255 values. */
export function fitToInput(image: DecodedImage, preset: PreprocessPreset): tf.Tensor3D {
  if (image.data.length !== image.width * image.height * 3) {
    throw new InvalidArgumentError(
      `Decoded image data has ${image.data.length} bytes, expected ${image.width}x${image.height}x3.`,
    );
  }
  return tf.tidy(() => {
    // Bytes straight to float32 (exact for 0..255): no int32 tensor and Cast pass. Together with skipping
    // the Slice when the crop is the whole image, half the cost of preparing a 224x224 image on wasm.
    const pixels = tf.tensor4d(image.data, [1, image.height, image.width, 3], 'float32');
    return tf.squeeze(fitBatchToInput(pixels, preset), [0]) as tf.Tensor3D;
  });
}

/**
 * {@link fitToInput} for a batch of same-sized images: float32 [n, h, w, 3] of 0..255 values to
 * [n, preset.height, preset.width, 3], cropped, resized and padded exactly as serving does one image.
 * Training uses it to feed, say, 32x32 CIFAR images to a 224x224 backbone.
 */
export function fitBatchToInput(images: tf.Tensor4D, preset: PreprocessPreset): tf.Tensor4D {
  const [count, imageHeight, imageWidth] = images.shape;
  return tf.tidy(() => {
    const { crop, resized, padding } = placement(imageHeight, imageWidth, preset);
    const whole =
      crop[0] === 0 && crop[1] === 0 && crop[2] === imageHeight && crop[3] === imageWidth;
    const floats = whole
      ? images
      : tf.slice(images, [0, crop[0], crop[1], 0], [count, crop[2], crop[3], 3]);
    // Half-pixel centres: the convention of TF 2's tf.image.resize and of PIL, which models are trained with.
    const scaled =
      crop[2] === resized[0] && crop[3] === resized[1]
        ? floats
        : tf.image.resizeBilinear(floats, [resized[0], resized[1]], false, true);
    if (padding.every((amount) => amount === 0)) return tf.clone(scaled);
    const fill = preset.fill ?? [0, 0, 0];
    // Pad each channel with its own fill value: pad with zeros, then add the fill where padding is.
    const paddings: Array<[number, number]> = [
      [0, 0],
      [padding[0], padding[1]],
      [padding[2], padding[3]],
      [0, 0],
    ];
    const mask = tf.pad(tf.zeros([1, resized[0], resized[1], 1]), paddings, 1);
    return tf.add(tf.pad(scaled, paddings), tf.mul(mask, tf.tensor1d([...fill]))) as tf.Tensor4D;
  });
}

/**
 * Turns decoded images into the model's input batch: resized per the preset and normalised, float32
 * [n, height, width, 3]. The caller owns (and disposes) the result.
 */
export function toModelInput(
  images: DecodedImage | readonly DecodedImage[],
  preset: PreprocessPreset,
): tf.Tensor4D {
  const list = Array.isArray(images) ? images : [images as DecodedImage];
  if (list.length === 0) throw new InvalidArgumentError('toModelInput needs at least one image.');
  return tf.tidy(
    () =>
      normalize(tf.stack(list.map((image) => fitToInput(image, preset))), preset) as tf.Tensor4D,
  );
}
