import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ExplainUnsupportedError, UnknownLayerError } from './errors';
import type { GradientSource } from './explain';

type Layer = tfl.LayersModel['layers'][number];

const POOLING = new Set(['MaxPooling2D', 'AveragePooling2D']);
const SOFTMAX_LAYERS = new Set(['Softmax', 'Activation']);

/** The layer's output shape when it has exactly one 4-D output, else undefined. */
function featureMapShape(layer: Layer): readonly (number | null)[] | undefined {
  let shape: ReturnType<() => Layer['outputShape']>;
  try {
    shape = layer.outputShape;
  } catch {
    return undefined; // several inbound nodes with different shapes
  }
  if (Array.isArray(shape[0]) || shape.length !== 4) return undefined;
  return shape as (number | null)[];
}

/**
 * Runs part of a layers model on concrete tensors, like tfjs-layers' own executor, but lets the caller
 * feed any symbolic tensor (model input or intermediate feature map) and substitute layers. Values are
 * keyed by symbolic tensor id; layers run in inference mode.
 */
function evaluate(
  feeds: ReadonlyMap<number, tf.Tensor>,
  fetch: tfl.SymbolicTensor,
  substitutes: ReadonlyMap<Layer, Layer>,
): tf.Tensor {
  const values = new Map(feeds);
  const visit = (symbolic: tfl.SymbolicTensor): tf.Tensor => {
    const known = values.get(symbolic.id);
    if (known) return known;
    const layer = symbolic.sourceLayer;
    const node = layer.inboundNodes[symbolic.nodeIndex];
    if (!node || node.inputTensors.length === 0)
      throw new ExplainUnsupportedError(
        `Cannot compute "${symbolic.name}": the model has an input explain() was not given (only single-input models can be explained).`,
      );
    const inputs = node.inputTensors.map(visit);
    const outputs = (substitutes.get(layer) ?? layer).apply(
      inputs.length === 1 ? (inputs[0] as tf.Tensor) : inputs,
      { ...node.callArgs, training: false },
    ) as tf.Tensor | tf.Tensor[];
    const list = Array.isArray(outputs) ? outputs : [outputs];
    node.outputTensors.forEach((output, index) => {
      values.set(output.id, list[index] as tf.Tensor);
    });
    return values.get(symbolic.id) as tf.Tensor;
  };
  return visit(fetch);
}

/**
 * Where the class score is read: the input of a final softmax layer, or the final layer itself with a
 * linear copy substituted when its own activation is softmax. Grad-CAM differentiates the score before
 * softmax: a saturated probability has no gradient.
 */
function scoreOf(model: tfl.LayersModel): {
  score: tfl.SymbolicTensor;
  substitutes: Map<Layer, Layer>;
} {
  const output = model.outputs[0] as tfl.SymbolicTensor;
  const layer = output.sourceLayer;
  const config = layer.getConfig();
  const node = layer.inboundNodes[output.nodeIndex];
  if (
    SOFTMAX_LAYERS.has(layer.getClassName()) &&
    (layer.getClassName() === 'Softmax' || config.activation === 'softmax') &&
    node?.inputTensors.length === 1
  )
    return { score: node.inputTensors[0] as tfl.SymbolicTensor, substitutes: new Map() };
  if (config.activation !== 'softmax') return { score: output, substitutes: new Map() };
  // A copy of the layer with a linear activation, sharing the original's weight values.
  const LayerClass = layer.constructor as new (config: tf.serialization.ConfigDict) => Layer;
  const linear = new LayerClass({ ...config, activation: 'linear', name: `${layer.name}_logits` });
  const layerInput = node?.inputTensors[0];
  if (!layerInput)
    throw new ExplainUnsupportedError(`Cannot read the inputs of the final layer "${layer.name}".`);
  const sample = layerInput.shape.map((size) => size ?? 1);
  tf.tidy(() => {
    linear.apply(tf.zeros(sample));
  });
  linear.setWeights(layer.getWeights());
  return { score: output, substitutes: new Map([[layer, linear]]) };
}

/**
 * Grad-CAM's inputs for a tf.layers model: feature maps of any layer with a single 4-D output, and the
 * gradient of a class score with respect to them, computed by feeding the feature map back in.
 */
export function layersGradientSource(model: tfl.LayersModel): GradientSource {
  if (model.inputs.length !== 1)
    throw new ExplainUnsupportedError(
      `explain() needs a single-input model; this one has ${model.inputs.length} inputs.`,
    );
  const input = model.inputs[0] as tfl.SymbolicTensor;
  const featureLayers = model.layers.filter((layer) => featureMapShape(layer) !== undefined);
  const validLayers = featureLayers.map((layer) => layer.name);
  let head: ReturnType<typeof scoreOf> | undefined;

  const defaultLayer = (): string => {
    // The last feature map larger than 1x1 that is not a pooling layer's (the map a pooling layer
    // pools has the same channels at a finer resolution) nor the input image.
    const chosen = [...featureLayers].reverse().find((layer) => {
      const [, height, width] = featureMapShape(layer) as (number | null)[];
      const kind = layer.getClassName();
      return (height ?? 2) * (width ?? 2) > 1 && !POOLING.has(kind) && kind !== 'InputLayer';
    });
    if (!chosen)
      throw new ExplainUnsupportedError(
        'This model has no convolutional feature map (no layer with a [height, width, channels] output larger than 1x1): Grad-CAM cannot explain it.',
      );
    return chosen.name;
  };

  return {
    validLayers,
    defaultLayer,
    gradients(batch, layerName, outputIndex) {
      const layer = featureLayers.find((candidate) => candidate.name === layerName);
      if (!layer) throw new UnknownLayerError(layerName, validLayers);
      head ??= scoreOf(model);
      const { score, substitutes } = head;
      const target = layer.getOutputAt(0) as tfl.SymbolicTensor;
      return tf.tidy(() => {
        const activations = evaluate(new Map([[input.id, batch]]), target, substitutes);
        const classScore = (features: tf.Tensor) => {
          const scores = evaluate(
            new Map([
              [input.id, batch],
              [target.id, features],
            ]),
            score,
            substitutes,
          );
          return tf.slice(tf.reshape(scores, [-1]), [outputIndex], [1]);
        };
        const gradients = tf.grad(classScore)(activations);
        return { activations: activations as tf.Tensor4D, gradients: gradients as tf.Tensor4D };
      });
    },
    dispose() {
      for (const linear of head?.substitutes.values() ?? []) linear.dispose();
      head = undefined;
    },
  };
}
