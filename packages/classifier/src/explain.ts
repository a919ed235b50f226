import type { ModelMetadata } from '@imgcls/models';
import {
  type DecodedImage,
  fitToInput,
  InvalidArgumentError,
  normalize,
  placement,
} from '@imgcls/preprocess';
import { registerMissingGradients } from '@imgcls/wasm-grad';
import * as tfconv from '@tensorflow/tfjs-converter';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Prediction } from './classifier';
import { graphGradientSource } from './explain-graph';
import { layersGradientSource } from './explain-layers';
import {
  blendHeatmap,
  type CamMethod,
  channelWeights,
  classActivationMap,
  type Region,
  toHeatmap,
  toOriginal,
} from './gradcam';

/** Options of `ImageClassifier.explain`. */
export interface ExplainOptions {
  /** Class to explain, an index into the model's labels; default: the most probable class. */
  readonly classIndex?: number;
  /**
   * Layer whose feature map is weighted (a tf.layers layer name, or a graph model's node name); default:
   * the last convolutional block's output, i.e. the last feature map larger than 1x1 before global
   * pooling (a pooling layer gives way to the map it pools).
   */
  readonly layer?: string;
  /** `'grad-cam'` (default) or `'grad-cam++'`. */
  readonly method?: CamMethod;
  /** Opacity of the heatmap colours in the overlays, 0..1 (default 0.5). */
  readonly alpha?: number;
  /** Also return the heatmap and overlay at the original image's size (default false). */
  readonly originalSize?: boolean;
}

/** Heat values in [0, 1], row-major (`data[y · width + x]`). */
export interface Heatmap {
  readonly data: Float32Array;
  readonly width: number;
  readonly height: number;
}

/** Opaque RGBA pixels, row-major, 4 bytes per pixel: ready for `new ImageData(data, width, height)`. */
export interface RgbaImage {
  readonly data: Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
}

/** What `ImageClassifier.explain` returns. */
export interface Explanation {
  /** The class explained, with the probability the model gives it. */
  readonly prediction: Prediction;
  /** The layer (or graph node) whose feature map was used. */
  readonly layer: string;
  readonly method: CamMethod;
  /** Heat at the model's input resolution (e.g. 224x224), aligned with the image as the model saw it. */
  readonly heatmap: Heatmap;
  /** The heatmap in jet colours blended over the image as the model saw it (resized, cropped or padded). */
  readonly overlay: RgbaImage;
  /**
   * With `originalSize`: the heatmap mapped back onto the original image (0 where a centre crop cut the
   * image) and its overlay, tinted only where the model saw the image.
   */
  readonly original?: { readonly heatmap: Heatmap; readonly overlay: RgbaImage };
}

/** A model's feature maps and class-score gradients, for Grad-CAM. Implemented per model format. */
export interface GradientSource {
  /** Names of the layers (or nodes) explain accepts, input first. */
  readonly validLayers: readonly string[];
  /** The default layer: the last convolutional block's output. */
  defaultLayer(): string;
  /**
   * Feature map [1, h, w, channels] of `layer` for one preprocessed image, and the gradient of the
   * model's pre-softmax output `outputIndex` with respect to it. The caller owns both tensors.
   */
  gradients(
    batch: tf.Tensor4D,
    layer: string,
    outputIndex: number,
  ): { activations: tf.Tensor4D; gradients: tf.Tensor4D };
  dispose(): void;
}

const DEFAULTS = { method: 'grad-cam', alpha: 0.5, originalSize: false } as const;

/** Grad-CAM for one classifier's model; created on the classifier's first `explain` call. */
export class Explainer {
  private readonly source: GradientSource;
  private defaultLayerName: string | undefined;

  constructor(
    model: tfl.LayersModel | tfconv.GraphModel,
    private readonly metadata: ModelMetadata,
  ) {
    // Gradients of convolutions on the wasm backend need kernels it lacks. Only those: the faster
    // replacements of forward kernels stay the caller's choice (registerWasmGradients).
    registerMissingGradients();
    this.source =
      model instanceof tfconv.GraphModel ? graphGradientSource(model) : layersGradientSource(model);
  }

  /**
   * Explains one decoded image, given the classifier's probabilities for it.
   *
   * @throws InvalidArgumentError for a bad class index, method or alpha; UnknownLayerError;
   *   ExplainUnsupportedError.
   */
  async explain(
    image: DecodedImage,
    probabilities: Float32Array,
    options: ExplainOptions = {},
  ): Promise<Explanation> {
    const { labels, preset } = this.metadata;
    const method = options.method ?? DEFAULTS.method;
    const alpha = options.alpha ?? DEFAULTS.alpha;
    if (method !== 'grad-cam' && method !== 'grad-cam++')
      throw new InvalidArgumentError(`method must be 'grad-cam' or 'grad-cam++', got "${method}".`);
    if (!(alpha >= 0 && alpha <= 1))
      throw new InvalidArgumentError(`alpha must be a number from 0 to 1, got ${alpha}.`);
    const classIndex = options.classIndex ?? argMax(probabilities);
    if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= labels.length)
      throw new InvalidArgumentError(
        `classIndex must be an integer from 0 to ${labels.length - 1} (an index into the model's labels), got ${classIndex}.`,
      );
    if (options.layer === undefined) this.defaultLayerName ??= this.source.defaultLayer();
    const layer = options.layer ?? (this.defaultLayerName as string);
    const outputIndex = classIndex + (this.metadata.backgroundClass ? 1 : 0);
    const size = [preset.height, preset.width] as const;

    const [pixels, heatmap] = tf.tidy(() => {
      const fitted = fitToInput(image, preset);
      const batch = tf.expandDims(normalize(fitted, preset), 0) as tf.Tensor4D;
      const { activations, gradients } = this.source.gradients(batch, layer, outputIndex);
      const features = tf.squeeze(activations, [0]) as tf.Tensor3D;
      const weights = channelWeights(features, tf.squeeze(gradients, [0]) as tf.Tensor3D, method);
      const cam = classActivationMap(features, weights);
      return [tf.cast(tf.clipByValue(tf.round(fitted), 0, 255), 'int32'), toHeatmap(cam, size)];
    });
    let pixelData: Uint8Array;
    let heat: Float32Array;
    let original: Explanation['original'];
    try {
      pixelData = Uint8Array.from(await pixels.data());
      heat = (await heatmap.data()) as Float32Array;
      if (options.originalSize === true) original = await this.originalView(image, heatmap, alpha);
    } finally {
      tf.dispose([pixels, heatmap]);
    }

    const [height, width] = size;
    return {
      prediction: {
        label: labels[classIndex] as string,
        index: classIndex,
        probability: probabilities[classIndex] as number,
      },
      layer,
      method,
      heatmap: { data: heat, width, height },
      overlay: { data: blendHeatmap(pixelData, heat, { width, height }, alpha), width, height },
      ...(original ? { original } : {}),
    };
  }

  dispose(): void {
    this.source.dispose();
  }

  /** Maps the input-resolution heatmap back through the preset's resize onto the original image. */
  private async originalView(
    image: DecodedImage,
    heatmap: tf.Tensor2D,
    alpha: number,
  ): Promise<NonNullable<Explanation['original']>> {
    const { width, height } = image;
    const geometry = placement(height, width, this.metadata.preset);
    const mapped = toOriginal(heatmap, geometry, [height, width]);
    const heat = (await mapped.data()) as Float32Array;
    mapped.dispose();
    const region: Region = geometry.crop;
    return {
      heatmap: { data: heat, width, height },
      overlay: {
        data: blendHeatmap(image.data, heat, { width, height }, alpha, region),
        width,
        height,
      },
    };
  }
}

function argMax(values: Float32Array): number {
  let best = 0;
  for (let index = 1; index < values.length; index++)
    if ((values[index] as number) > (values[best] as number)) best = index;
  return best;
}
