import type * as tfconv from '@tensorflow/tfjs-converter';
import * as tf from '@tensorflow/tfjs-core';
import { ExplainUnsupportedError, UnknownLayerError } from './errors';
import type { GradientSource } from './explain';

/** One node of a TF.js graph model's GraphDef. */
interface GraphNode {
  readonly name: string;
  readonly op: string;
  readonly input?: readonly string[];
}

/** Operations whose output is a [batch, height, width, channels] feature map in converted CNNs. */
const FEATURE_OPS = new Set([
  'Conv2D',
  '_FusedConv2D',
  'DepthwiseConv2dNative',
  'FusedDepthwiseConv2dNative',
  'Relu',
  'Relu6',
  'Elu',
  'Selu',
  'LeakyRelu',
  'Sigmoid',
  'Swish',
  'Add',
  'AddV2',
  'BiasAdd',
  'FusedBatchNorm',
  'FusedBatchNormV3',
  'MaxPool',
  'AvgPool',
  'ConcatV2',
  'Mul',
]);
/** Global pooling in converted graphs: its input is the last convolutional block's output. */
const POOLING_OPS = new Set(['Mean', 'AvgPool', 'Max', 'MaxPool']);
/** Operations that pass a tensor through unchanged (skipped when looking for the softmax's input). */
const PASS_THROUGH_OPS = new Set(['Identity', 'Squeeze', 'Reshape']);

const nodeName = (input: string) => input.replace(/^\^/, '').replace(/:\d+$/, '');

/**
 * The GraphDef nodes of a loaded graph model. tfjs-converter keeps the loaded artifacts on the model
 * without a public accessor, so this reads that field and fails with a clear error if it moves.
 */
function graphNodes(model: tfconv.GraphModel): readonly GraphNode[] {
  const topology = (model as unknown as { artifacts?: { modelTopology?: { node?: GraphNode[] } } })
    .artifacts?.modelTopology;
  if (!topology?.node)
    throw new ExplainUnsupportedError(
      'This version of @tensorflow/tfjs-converter does not expose the graph structure explain() needs: explain a layers model instead.',
    );
  return topology.node;
}

/**
 * Grad-CAM's inputs for a TF.js graph model: `GraphModel.execute` can be fed at an intermediate node,
 * so the class score is differentiated with respect to that node's feature map.
 */
export function graphGradientSource(model: tfconv.GraphModel): GradientSource {
  const nodes = graphNodes(model);
  const byName = new Map(nodes.map((node) => [node.name, node]));
  const inputName = model.inputNodes[0] as string;
  const outputName = model.outputNodes[0] as string;
  const validLayers = nodes.filter((node) => FEATURE_OPS.has(node.op)).map((node) => node.name);

  // The class score: the softmax's input when the graph ends in one, else the output itself.
  let scoreNode = byName.get(nodeName(outputName));
  while (scoreNode && PASS_THROUGH_OPS.has(scoreNode.op) && scoreNode.input?.[0])
    scoreNode = byName.get(nodeName(scoreNode.input[0]));
  const scoreName =
    scoreNode?.op === 'Softmax' && scoreNode.input?.[0] ? nodeName(scoreNode.input[0]) : outputName;

  const defaultLayer = (): string => {
    const pooling = [...nodes]
      .reverse()
      .find((node) => POOLING_OPS.has(node.op) && node.input?.[0]);
    if (!pooling?.input?.[0])
      throw new ExplainUnsupportedError(
        'This graph model has no global pooling node (Mean, AvgPool, Max or MaxPool) to find its last convolutional block: pass { layer } with a node name.',
      );
    return nodeName(pooling.input[0]);
  };

  return {
    validLayers,
    defaultLayer,
    gradients(batch, layerName, outputIndex) {
      if (!byName.has(layerName)) throw new UnknownLayerError(layerName, validLayers);
      return tf.tidy(() => {
        const activations = model.execute({ [inputName]: batch }, layerName) as tf.Tensor;
        if (activations.rank !== 4) throw new UnknownLayerError(layerName, validLayers);
        const classScore = (features: tf.Tensor) => {
          const scores = model.execute(
            { [inputName]: batch, [layerName]: features },
            scoreName,
          ) as tf.Tensor;
          return tf.slice(tf.reshape(scores, [-1]), [outputIndex], [1]);
        };
        const gradients = tf.grad(classScore)(activations);
        return { activations: activations as tf.Tensor4D, gradients: gradients as tf.Tensor4D };
      });
    },
    dispose() {},
  };
}
