import { compileLayersModel } from '@imgcls/models';
import { InvalidArgumentError } from '@imgcls/preprocess/errors';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { TrainingData } from './loop';

/** Options of {@link transferModel}. */
export interface TransferOptions {
  /** Classes of the new task: units of the new classifier layer. */
  readonly classes: number;
  /**
   * The backbone layer whose output becomes the features (default: the input of the backbone's last
   * weighted layer, i.e. what its own classifier saw). Feature maps are average-pooled to a vector.
   */
  readonly featureLayer?: string;
  /** Dropout before the new classifier (default 0.2, as Keras' transfer-learning guide). */
  readonly dropout?: number;
  /** `'softmax'` (default) for probabilities, `'linear'` for logits. */
  readonly classifierActivation?: 'softmax' | 'linear';
  /** Seed of the new classifier's initial weights. */
  readonly seed?: number;
}

/** What {@link transferModel} builds: one new head, reachable two ways. */
export interface TransferModel {
  /** Backbone (frozen) → pooled features → new head: train it, fine-tune it, save and serve it. */
  readonly model: tfl.LayersModel;
  /**
   * The same head (shared weights) on pooled feature vectors shaped [1, 1, features]: train it on
   * {@link featureData} to fit the head without running the backbone every epoch.
   */
  readonly head: tfl.LayersModel;
  /** Backbone up to the pooled features: what {@link featureData} runs once per image. */
  readonly features: tfl.LayersModel;
  /** Name of the layer whose output is the pooled feature vector: the model's embedding layer. */
  readonly embeddingLayer: string;
  /** Length of the feature vector. */
  readonly featureSize: number;
}

const DEFAULTS = { dropout: 0.2, classifierActivation: 'softmax' } as const;

/** The input tensor of the backbone's last layer that has weights: its classifier's view of an image. */
function defaultFeatureTensor(backbone: tfl.LayersModel): tfl.SymbolicTensor {
  const classifier = [...backbone.layers].reverse().find((layer) => layer.weights.length > 0);
  const input = classifier?.input;
  if (!classifier || Array.isArray(input) || input === undefined) {
    throw new InvalidArgumentError(
      'The backbone has no single-input weighted layer to take features from: name one with featureLayer.',
    );
  }
  return input as tfl.SymbolicTensor;
}

function featureTensor(backbone: tfl.LayersModel, name: string | undefined): tfl.SymbolicTensor {
  if (name === undefined) return defaultFeatureTensor(backbone);
  const layer = backbone.layers.find((candidate) => candidate.name === name);
  if (!layer) {
    const names = backbone.layers.map((candidate) => candidate.name);
    throw new InvalidArgumentError(
      `The backbone has no layer "${name}". Its last layers are: ${names.slice(-8).join(', ')}.`,
    );
  }
  return layer.output as tfl.SymbolicTensor;
}

/**
 * Transfer learning's starting point: a pretrained backbone with its classifier replaced by a new one for
 * `classes` classes. Every backbone layer is frozen (not trainable); the new head (dropout + dense) is the
 * only trainable part until {@link unfreezeFrom} opens the top of the backbone for fine-tuning.
 *
 * The returned models share the backbone's layers and weights: dispose only one of them (`model`).
 *
 * @throws InvalidArgumentError for a bad class count, dropout or feature layer.
 */
export function transferModel(backbone: tfl.LayersModel, options: TransferOptions): TransferModel {
  const { classes } = options;
  if (!Number.isInteger(classes) || classes < 2)
    throw new InvalidArgumentError(`classes must be an integer ≥ 2, got ${classes}.`);
  const dropout = options.dropout ?? DEFAULTS.dropout;
  if (!(dropout >= 0 && dropout < 1))
    throw new InvalidArgumentError(`dropout must be in [0, 1), got ${dropout}.`);
  for (const layer of backbone.layers) layer.trainable = false;

  const mapped = featureTensor(backbone, options.featureLayer);
  const pooled =
    mapped.shape.length === 4
      ? (tfl.layers
          .globalAveragePooling2d({ name: 'transfer_pool' })
          .apply(mapped) as tfl.SymbolicTensor)
      : mapped.shape.length === 2
        ? mapped
        : (tfl.layers.flatten({ name: 'transfer_flatten' }).apply(mapped) as tfl.SymbolicTensor);
  const featureSize = pooled.shape[1] as number;
  const headLayers = [
    tfl.layers.dropout({ rate: dropout, name: 'transfer_dropout' }),
    tfl.layers.dense({
      units: classes,
      activation: options.classifierActivation ?? DEFAULTS.classifierActivation,
      name: 'transfer_predictions',
      ...(options.seed === undefined
        ? {}
        : { kernelInitializer: tfl.initializers.glorotUniform({ seed: options.seed }) }),
    }),
  ];
  const applyHead = (features: tfl.SymbolicTensor) =>
    headLayers.reduce((x, layer) => layer.apply(x) as tfl.SymbolicTensor, features);

  const vectorInput = tfl.input({ shape: [1, 1, featureSize], name: 'transfer_features' });
  const vector = tfl.layers
    .flatten({ name: 'transfer_features_flat' })
    .apply(vectorInput) as tfl.SymbolicTensor;
  return {
    model: tfl.model({ inputs: backbone.inputs, outputs: applyHead(pooled), name: 'transfer' }),
    head: tfl.model({ inputs: vectorInput, outputs: applyHead(vector), name: 'transfer_head' }),
    features: tfl.model({ inputs: backbone.inputs, outputs: pooled, name: 'transfer_features' }),
    embeddingLayer: pooled.sourceLayer.name,
    featureSize,
  };
}

/** Where the named layer is in the model's topological order. @throws InvalidArgumentError if absent. */
function layerIndex(model: tfl.LayersModel, layerName: string): number {
  const index = model.layers.findIndex((layer) => layer.name === layerName);
  if (index < 0) {
    const names = model.layers.map((layer) => layer.name);
    throw new InvalidArgumentError(
      `The model has no layer "${layerName}". Its last layers are: ${names.slice(-8).join(', ')} (model.summary() lists all).`,
    );
  }
  return index;
}

/**
 * Opens the top of a transferred backbone for fine-tuning: the named layer and every layer after it
 * (in the model's topological order) become trainable, every layer before it frozen. Fine-tune with a
 * learning rate about 10× lower than the head's, so the pretrained features are adjusted, not erased.
 *
 * Batch-normalisation layers in the opened part run in training mode (batch statistics), as in PyTorch.
 *
 * @returns the number of trainable weight tensors afterwards.
 * @throws InvalidArgumentError when the model has no such layer.
 */
export function unfreezeFrom(model: tfl.LayersModel, layerName: string): number {
  const start = layerIndex(model, layerName);
  model.layers.forEach((layer, index) => {
    layer.trainable = index >= start;
  });
  return model.trainableWeights.length;
}

/**
 * Runs the frozen backbone once over `data` and keeps the pooled features in memory (4 bytes × features
 * per image), as training data for {@link TransferModel.head}: each epoch of head training then costs a
 * dense layer instead of a backbone pass. No augmentation: the features are computed once. Streaming
 * datasets (image folders) are read batch by batch.
 */
export async function featureData(
  features: tfl.LayersModel,
  data: TrainingData,
  options: { readonly batchSize?: number; readonly onProgress?: (done: number) => void } = {},
): Promise<TrainingData> {
  const batchSize = options.batchSize ?? 32;
  const featureSize = features.outputs[0]?.shape[1] as number;
  const vectors = new Float32Array(data.size * featureSize);
  const labels = new Int32Array(data.size);
  for (let start = 0; start < data.size; start += batchSize) {
    const indices = Array.from(
      { length: Math.min(batchSize, data.size - start) },
      (_, offset) => start + offset,
    );
    await data.load?.(indices);
    const batch = data.batch(indices);
    const output = tf.tidy(() => features.predict(batch.images) as tf.Tensor);
    vectors.set(output.dataSync(), start * featureSize);
    labels.set(batch.labels.dataSync(), start);
    tf.dispose([output, batch.images, batch.labels]);
    options.onProgress?.(start + indices.length);
  }
  return {
    size: data.size,
    batch(indices) {
      const rows = new Float32Array(indices.length * featureSize);
      indices.forEach((index, row) => {
        rows.set(
          vectors.subarray(index * featureSize, (index + 1) * featureSize),
          row * featureSize,
        );
      });
      return {
        images: tf.tensor4d(rows, [indices.length, 1, 1, featureSize]),
        labels: tf.tensor1d(
          Array.from(indices, (index) => labels[index] as number),
          'int32',
        ),
      };
    },
  };
}

/** A model cut in two for fine-tuning by {@link splitAtLayer}; both parts share the model's layers. */
export interface FineTuneSplit {
  /** The model's input → the input of the cut layer: the frozen layers, run outside the gradient tape. */
  readonly frozen: tfl.LayersModel;
  /** The cut layer's input → the model's output: what trains (pair it with {@link frozenFeatureData}). */
  readonly trainable: tfl.LayersModel;
}

/** The node of `layer` that `model`'s own graph uses, found by walking back from the outputs. */
function modelNodeOf(model: tfl.LayersModel, layer: tfl.layers.Layer) {
  const seen = new Set<number>();
  const pending = [...model.outputs];
  for (let tensor = pending.pop(); tensor; tensor = pending.pop()) {
    if (seen.has(tensor.id)) continue;
    seen.add(tensor.id);
    const node = tensor.sourceLayer.inboundNodes[tensor.nodeIndex];
    if (!node) continue;
    if (tensor.sourceLayer === layer) return node;
    pending.push(...node.inputTensors);
  }
  return undefined;
}

/**
 * Cuts a model at a layer for fine-tuning: `frozen` computes the cut layer's input, `trainable` runs
 * the cut layer and everything after it. Trained on {@link frozenFeatureData}, only `trainable` is under
 * the gradient tape, so the frozen layers cost one inference pass (fused by `compileLayersModel`) and no
 * gradient memory: a MobileNetV2-224 fine-tuned from its last block trains at batch 64 in wasm's 4 GB,
 * where the whole model under the tape ran out of memory. Training `trainable` updates the original
 * model's weights (the layers are shared); save the original.
 *
 * @throws InvalidArgumentError when the model has no such layer, the layer has several inputs, or a
 *   connection skips over the cut (a residual branch from before it): cut at the start of a block.
 */
export function splitAtLayer(model: tfl.LayersModel, layerName: string): FineTuneSplit {
  const start = layerIndex(model, layerName);
  const first = model.layers[start] as tfl.layers.Layer;
  const cut = modelNodeOf(model, first)?.inputTensors;
  if (cut?.length !== 1 || !cut[0]) {
    throw new InvalidArgumentError(
      `Layer "${layerName}" does not take exactly one input, so the model cannot be cut there.`,
    );
  }
  const cutTensor = cut[0];
  const after = new Set(model.layers.slice(start));
  const cutInput = tfl.input({ shape: cutTensor.shape.slice(1) as number[] });
  const rebuilt = new Map<number, tfl.SymbolicTensor>([[cutTensor.id, cutInput]]);
  // Applies the layers after the cut again, on the new input, in the order the outputs need them.
  const rebuild = (tensor: tfl.SymbolicTensor): tfl.SymbolicTensor => {
    const done = rebuilt.get(tensor.id);
    if (done) return done;
    const layer = tensor.sourceLayer;
    const node = layer.inboundNodes[tensor.nodeIndex];
    if (!after.has(layer) || !node) {
      throw new InvalidArgumentError(
        `Layer "${layerName}" cannot be the cut: "${layer.name}" from before it feeds a later layer directly (a skip connection). Cut at the start of a block.`,
      );
    }
    const inputs = node.inputTensors.map(rebuild);
    const outputs = layer.apply(
      inputs.length === 1 ? (inputs[0] as tfl.SymbolicTensor) : inputs,
      node.callArgs,
    ) as tfl.SymbolicTensor | tfl.SymbolicTensor[];
    const list = Array.isArray(outputs) ? outputs : [outputs];
    node.outputTensors.forEach((output, index) => {
      rebuilt.set(output.id, list[index] as tfl.SymbolicTensor);
    });
    return rebuilt.get(tensor.id) as tfl.SymbolicTensor;
  };
  return {
    frozen: tfl.model({ inputs: model.inputs, outputs: cutTensor, name: `${model.name}_frozen` }),
    trainable: tfl.model({
      inputs: cutInput,
      outputs: model.outputs.map(rebuild),
      name: `${model.name}_trainable`,
    }),
  };
}

/**
 * `data` with every batch's images replaced by the frozen part's output, computed per batch (fused by
 * `compileLayersModel` where it can, else `predict`) outside the gradient tape. Augmentation still
 * applies to the images first. Call `dispose()` when training ends, to free the fused weights.
 */
export function frozenFeatureData(
  frozen: tfl.LayersModel,
  data: TrainingData,
): TrainingData & { dispose(): void } {
  // A snapshot of the frozen weights is right here: they do not change while the rest trains.
  const compiled = compileLayersModel(frozen);
  const run = (images: tf.Tensor) =>
    compiled ? compiled.execute(images) : (frozen.predict(images) as tf.Tensor);
  return {
    size: data.size,
    ...(data.settings ? { settings: data.settings } : {}),
    ...(data.load ? { load: data.load.bind(data) } : {}),
    batch(indices, step, epoch) {
      const batch = data.batch(indices, step, epoch);
      const images = tf.tidy(() => run(batch.images)) as tf.Tensor4D;
      batch.images.dispose();
      return { images, labels: batch.labels };
    },
    dispose: () => compiled?.dispose(),
  };
}
