import {
  type CompiledModel,
  checkLabelCount,
  compileLayersModel,
  ModelLoadError,
  type ModelMetadata,
  type ModelReference,
  type ModelSourceKind,
  type ResolveOptions,
} from '@imgcls/models';
import { modelStore } from '@imgcls/models/store';
import {
  type DecodedImage,
  decodeImage,
  ImgclsError,
  InvalidArgumentError,
  predictWithViews,
  TEST_TIME_AUGMENTATIONS,
  type TestTimeAugmentation,
  toModelInput,
} from '@imgcls/preprocess';
import * as tfconv from '@tensorflow/tfjs-converter';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { type BackendChoice, type BackendOptions, selectBackend, wasmThreadCount } from './backend';
import { BackendChangedError, DisposedError } from './errors';
import { Explainer, type ExplainOptions, type Explanation } from './explain';

/**
 * An image to classify: whatever `@imgcls/preprocess` decodes on this platform (Node: file path,
 * Buffer/Uint8Array/ArrayBuffer; browser: img, canvas, video, ImageBitmap, ImageData, Blob/File), pixels
 * already decoded, or an RGB tensor [height, width, 3] of 0..255 values.
 */
export type ImageInput = Parameters<typeof decodeImage>[0] | DecodedImage | tf.Tensor3D;

/** One ranked class. */
export interface Prediction {
  readonly label: string;
  /** Index into the model's labels (after any background class). */
  readonly index: number;
  readonly probability: number;
}

/**
 * The outcome of classifying one input, as `imgcls classify --json` prints it (one line each) and the
 * HTTP server answers it: its ranked predictions, or the typed error that stopped it.
 */
export type ClassifyOutcome =
  | { readonly input: string; readonly predictions: readonly Prediction[] }
  | { readonly input: string; readonly error: { readonly code: string; readonly message: string } };

/**
 * Options of {@link loadClassifier}: where the model comes from (any field of `modelSettings`, for this
 * call only, and `labels` for a `.tflite` file) and how it runs.
 */
export interface LoadOptions extends ResolveOptions {
  /** Backend to run on; `'auto'` (default) picks tfjs-node when installed, else wasm (Node) or webgl/wasm (browser). */
  readonly backend?: BackendChoice;
  /** wasm in Node: XNNPACK threads, see {@link BackendOptions.threads} (default 1). */
  readonly threads?: BackendOptions['threads'];
  /** Metadata to use instead of (or when there is no) `metadata.json`. */
  readonly metadata?: ModelMetadata;
  /** Largest image accepted, in pixels (default 50 MP). */
  readonly maxPixels?: number;
  /**
   * Views whose predictions are averaged (see `@imgcls/preprocess`'s `testTimeViews`): `'flip'`,
   * `'flip-translate'` (6 forward passes per image), or `'none'`. Default: the model metadata's
   * `testTimeAugmentation`, else none.
   */
  readonly testTimeAugmentation?: TestTimeAugmentation | 'none';
}

/** What a loaded classifier is and runs on. */
export interface ClassifierInfo {
  readonly id: string;
  readonly name: string;
  /** The folder or URL the model was loaded from (`IOHandler` for one given directly). */
  readonly origin: string;
  /** Which source of the model store served it: a caller's path or URL, the models folder, the installed package, the CDN or mirror… */
  readonly source: ModelSourceKind;
  readonly format: ModelMetadata['format'];
  readonly backend: string;
  /** Threads the wasm backend computes with, in Node (absent on other backends and in browsers). */
  readonly threads?: number;
  readonly inputSize: { readonly height: number; readonly width: number };
  readonly labels: number;
  readonly parameters?: number;
  /** Views each prediction averages over, when there is test-time augmentation. */
  readonly testTimeAugmentation?: TestTimeAugmentation;
}

/**
 * A loaded model with its preprocessing; create with {@link loadClassifier}. It computes on the backend it
 * was loaded on (`info().backend`): every method that runs the model throws `BackendChangedError` when
 * another backend has become active since (it never switches back by itself: that would move every other
 * model of the process).
 */
export interface ImageClassifier {
  /** The `topK` most probable classes (default 5), most probable first. */
  classify(image: ImageInput, options?: { readonly topK?: number }): Promise<Prediction[]>;
  /** {@link classify} for several images, run through the model as one batch. */
  classifyBatch(
    images: readonly ImageInput[],
    options?: { readonly topK?: number },
  ): Promise<Prediction[][]>;
  /** Probabilities over all labels, per image: the raw material of evaluation. */
  probabilities(images: readonly ImageInput[]): Promise<Float32Array[]>;
  /** The image's embedding: the output of the layer before the classifier (or metadata's `embeddingLayer`). */
  embed(image: ImageInput): Promise<Float32Array>;
  /**
   * Grad-CAM: where in the image the evidence for a class lies, as a heatmap in [0, 1] at the model's
   * input resolution and an RGBA overlay. On wasm, registers the gradient kernels wasm lacks on first use
   * (and replaces no kernel).
   *
   * @throws InvalidArgumentError, UnknownLayerError (lists the valid layers), ExplainUnsupportedError,
   *   BackendChangedError.
   */
  explain(image: ImageInput, options?: ExplainOptions): Promise<Explanation>;
  /** What is loaded and where it runs; `backend` is the backend it was loaded on. */
  info(): ClassifierInfo;
  /** The metadata the classifier runs with. */
  readonly metadata: ModelMetadata;
  /** Frees the model's weights; every later call throws DisposedError. */
  dispose(): void;
}

type LoadedModel = tfl.LayersModel | tfconv.GraphModel;

/**
 * Loads a classifier: a registry id (`'mobilenet-v2'`, `'cifar10'`), an http(s) URL of a model.json
 * or `.tflite` (downloaded once into the cache), a folder, or an IOHandler. Registry ids come from the
 * model store, in order: the models folder, the installed model package (Node), the pinned package on
 * the npm CDN or mirror (see `modelSettings`). The model's metadata decides
 * its preprocessing and labels; the label count is checked against the output units; the model is
 * warmed up before this resolves.
 *
 * @throws ModelLoadError, LabelMismatchError, InvalidMetadataError, UnknownModelError,
 *   ModelNotFoundError, ModelPackageVersionError, DownloadError/OfflineError/ChecksumMismatchError,
 *   BackendUnavailableError, InvalidArgumentError, BackendChangedError (another load switched the backend
 *   while this one was loading).
 */
export async function loadClassifier(
  reference: ModelReference,
  options: LoadOptions = {},
): Promise<ImageClassifier> {
  const views = options.testTimeAugmentation;
  if (views !== undefined && views !== 'none' && !TEST_TIME_AUGMENTATIONS.includes(views))
    throw new InvalidArgumentError(
      `testTimeAugmentation must be none, ${TEST_TIME_AUGMENTATIONS.join(' or ')}, got "${views}".`,
    );
  const backend = await selectBackend(
    options.backend,
    options.threads !== undefined ? { threads: options.threads } : {},
  );
  const threads = backend === 'wasm' ? await wasmThreadCount() : undefined;
  const resolved = await modelStore.resolve(reference, options);
  const metadata = options.metadata ?? resolved.metadata;
  if (!metadata) {
    throw new ModelLoadError(
      `${resolved.origin} has no metadata.json: pass { metadata } to loadClassifier so it knows the labels and preprocessing.`,
    );
  }
  let model: LoadedModel;
  try {
    model =
      metadata.format === 'graph-model'
        ? await tfconv.loadGraphModel(resolved.handler)
        : await tfl.loadLayersModel(resolved.handler);
  } catch (error) {
    // The store's typed errors (download, checksum, offline) pass through; anything else is a load failure.
    if (ImgclsError.isInstance(error)) throw error;
    throw new ModelLoadError(
      `Cannot load ${resolved.origin} as a TF.js ${metadata.format}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const classifier = new Classifier(
    model,
    metadata,
    { origin: resolved.origin, source: resolved.source },
    { backend, ...(threads !== undefined ? { threads } : {}) },
    options.maxPixels,
    views === 'none' ? undefined : (views ?? metadata.testTimeAugmentation),
  );
  try {
    classifier.warmUp();
  } catch (error) {
    classifier.dispose();
    throw error;
  }
  return classifier;
}

class Classifier implements ImageClassifier {
  private disposed = false;
  private embedder: tfl.LayersModel | undefined;
  /** A layers model as a fused straight-line program (see compileLayersModel); undefined for graph models. */
  private readonly compiled: CompiledModel | undefined;
  private explainer: Explainer | undefined;

  constructor(
    private readonly model: LoadedModel,
    readonly metadata: ModelMetadata,
    /** Where the model came from, for info(). */
    private readonly served: Pick<ClassifierInfo, 'origin' | 'source'>,
    /** Where it runs: the backend's name and, on wasm, its thread count. */
    private readonly runtime: Pick<ClassifierInfo, 'backend' | 'threads'>,
    private readonly maxPixels: number | undefined,
    private readonly views: TestTimeAugmentation | undefined,
  ) {
    if (model instanceof tfl.LayersModel) {
      const embedding = this.embeddingLayerName(model);
      this.compiled = compileLayersModel(model, embedding ? { outputs: [embedding] } : {});
    }
  }

  /** Runs one blank image through the model: compiles kernels, checks the output shape against the labels. */
  warmUp(): void {
    this.assertBackend();
    const { height, width } = this.metadata.preset;
    const output = tf.tidy(() => this.forward(tf.zeros([1, height, width, 3])));
    const units = output.shape[output.shape.length - 1] as number;
    output.dispose();
    checkLabelCount(units, this.metadata);
  }

  async classify(image: ImageInput, options: { topK?: number } = {}): Promise<Prediction[]> {
    return (await this.classifyBatch([image], options))[0] as Prediction[];
  }

  async classifyBatch(
    images: readonly ImageInput[],
    options: { topK?: number } = {},
  ): Promise<Prediction[][]> {
    const topK = options.topK ?? 5;
    if (!Number.isInteger(topK) || topK < 1)
      throw new InvalidArgumentError(`topK must be a positive integer, got ${topK}.`);
    return (await this.probabilities(images)).map((row) => this.rank(row, topK));
  }

  async probabilities(images: readonly ImageInput[]): Promise<Float32Array[]> {
    this.assertAlive();
    if (images.length === 0) return [];
    const decoded = await Promise.all(images.map((image) => this.decode(image)));
    this.assertBackend();
    const probabilities = tf.tidy(() => {
      const input = toModelInput(decoded, this.metadata.preset);
      const predict = (batch: tf.Tensor) => this.toProbabilities(this.forward(batch));
      return this.views ? predictWithViews(input, this.views, predict) : predict(input);
    });
    const values = (await probabilities.data()) as Float32Array;
    probabilities.dispose();
    const classes = this.metadata.labels.length;
    return decoded.map((_, row) => values.slice(row * classes, (row + 1) * classes));
  }

  async embed(image: ImageInput): Promise<Float32Array> {
    this.assertAlive();
    const decoded = await this.decode(image);
    this.assertBackend();
    const embedding = tf.tidy(() => {
      const input = toModelInput(decoded, this.metadata.preset);
      if (this.model instanceof tfconv.GraphModel) {
        const node = this.metadata.embeddingLayer;
        if (!node)
          throw new ModelLoadError(
            'This graph model has no embeddingLayer in its metadata: embeddings are unavailable.',
          );
        return tf.reshape(this.model.execute(input, node) as tf.Tensor, [-1]);
      }
      const layer = this.embeddingLayerName(this.model);
      if (layer && this.compiled?.outputs.includes(layer))
        return tf.reshape(this.compiled.execute(input, layer), [-1]);
      this.embedder ??= this.embeddingModel(this.model);
      return tf.reshape(this.embedder.predict(input) as tf.Tensor, [-1]);
    });
    const values = (await embedding.data()) as Float32Array;
    embedding.dispose();
    return values;
  }

  async explain(image: ImageInput, options: ExplainOptions = {}): Promise<Explanation> {
    this.assertAlive();
    const decoded = await this.decode(image);
    const [probabilities] = await this.probabilities([decoded]);
    this.assertBackend();
    this.explainer ??= new Explainer(this.model, this.metadata);
    return this.explainer.explain(decoded, probabilities as Float32Array, options);
  }

  info(): ClassifierInfo {
    this.assertAlive();
    const parameters = this.model instanceof tfl.LayersModel ? this.model.countParams() : undefined;
    return {
      id: this.metadata.id,
      name: this.metadata.name,
      ...this.served,
      format: this.metadata.format,
      ...this.runtime,
      inputSize: { height: this.metadata.preset.height, width: this.metadata.preset.width },
      labels: this.metadata.labels.length,
      ...(parameters !== undefined ? { parameters } : {}),
      ...(this.views ? { testTimeAugmentation: this.views } : {}),
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.explainer?.dispose();
    this.compiled?.dispose();
    this.model.dispose();
    // The embedding sub-model shares the classifier's layers; disposing the model freed them.
  }

  private assertAlive(): void {
    if (this.disposed) throw new DisposedError();
  }

  /** Checked right before computing too: another load can switch the backend while an image decodes. */
  private assertBackend(): void {
    const active = tf.getBackend();
    if (active !== this.runtime.backend)
      throw new BackendChangedError(this.runtime.backend, active);
  }

  private async decode(image: ImageInput): Promise<DecodedImage> {
    if (image instanceof tf.Tensor) {
      if (image.rank !== 3 || image.shape[2] !== 3)
        throw new InvalidArgumentError(
          `An image tensor must be [height, width, 3], got [${image.shape}].`,
        );
      const data = Uint8Array.from(await image.data(), (value) =>
        Math.max(0, Math.min(255, Math.round(value))),
      );
      return { data, width: image.shape[1] as number, height: image.shape[0] as number };
    }
    if (isDecoded(image)) return image;
    return decodeImage(
      image as Parameters<typeof decodeImage>[0],
      this.maxPixels ? { maxPixels: this.maxPixels } : {},
    );
  }

  private forward(input: tf.Tensor): tf.Tensor {
    if (this.compiled) return this.compiled.execute(input);
    const output = this.model.predict(input);
    return Array.isArray(output) ? (output[0] as tf.Tensor) : (output as tf.Tensor);
  }

  /** Softmax for logits; drops a background class (index 0) and renormalises over the labels. */
  private toProbabilities(output: tf.Tensor): tf.Tensor2D {
    let values = tf.reshape(output, [output.shape[0] as number, -1]) as tf.Tensor2D;
    if (this.metadata.output === 'logits') values = tf.softmax(values);
    if (this.metadata.backgroundClass) {
      values = tf.slice(values, [0, 1], [-1, -1]);
      values = tf.div(values, tf.sum(values, 1, true));
    }
    return values;
  }

  /** The topK most probable classes in one pass over the row (no sort of every class); ties: lower index first. */
  private rank(row: Float32Array, topK: number): Prediction[] {
    const best: number[] = [];
    for (let index = 0; index < row.length; index++) {
      const probability = row[index] as number;
      if (best.length === topK && !(probability > (row[best[topK - 1] as number] as number)))
        continue;
      let position = best.length;
      while (position > 0 && (row[best[position - 1] as number] as number) < probability)
        position--;
      best.splice(position, 0, index);
      if (best.length > topK) best.pop();
    }
    return best.map((index) => ({
      label: this.metadata.labels[index] as string,
      index,
      probability: row[index] as number,
    }));
  }

  /** The metadata's `embeddingLayer`, else the layer before the classifier, when the model has it. */
  private embeddingLayerName(model: tfl.LayersModel): string | undefined {
    const name = this.metadata.embeddingLayer ?? model.layers[model.layers.length - 2]?.name;
    return model.layers.some((layer) => layer.name === name) ? name : undefined;
  }

  private embeddingModel(model: tfl.LayersModel): tfl.LayersModel {
    const name = this.metadata.embeddingLayer;
    const layer = name ? model.getLayer(name) : model.layers[model.layers.length - 2];
    if (!layer)
      throw new ModelLoadError(
        'The model has no layer before its classifier to take embeddings from.',
      );
    return tfl.model({ inputs: model.inputs, outputs: layer.output as tfl.SymbolicTensor });
  }
}

function isDecoded(image: unknown): image is DecodedImage {
  const candidate = image as DecodedImage;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    candidate.data instanceof Uint8Array &&
    typeof candidate.width === 'number' &&
    typeof candidate.height === 'number' &&
    !(typeof Blob !== 'undefined' && image instanceof Blob)
  );
}
