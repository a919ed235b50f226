import { InvalidArgumentError } from '@imgcls/preprocess/errors';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { type CommonOptions, checkInputShape, checkInteger } from './options';

// airbench's batch norm: momentum 0.4 in PyTorch's convention (0.6 in Keras'), so the running statistics
// follow the last few batches; that is what lets the short schedule end with usable statistics.
const BN = { momentum: 0.6, epsilon: 1e-12 } as const;
/** The patch side of the whitening layer (2x2 patches of 3 channels: 12 directions, each ±). */
export const WHITENING_KERNEL_SIZE = 2;

/** Options of {@link airbench}. */
export interface AirbenchOptions extends CommonOptions {
  /** Channels of the three convolution groups. Default [64, 256, 256], airbench94's. */
  readonly widths?: readonly [number, number, number];
}

/**
 * The network of Keller Jordan's airbench94 (94% on CIFAR-10 in ~10 epochs): a 2x2 patch-whitening
 * convolution (24 filters, frozen kernel, trained bias) and GELU, three groups of conv-pool-BN-GELU +
 * conv-BN-GELU (64, 256, 256 channels), a 3x3 max pool, a dense classifier without bias and a fixed
 * logit scale of 1/9. Batch norms have no trainable scale; every convolution starts as an identity on
 * the channels it shares with its input (dirac initialisation), so the untrained network passes its
 * input through and training learns residuals on top.
 *
 * The whitening kernel depends on the data: set it with {@link WHITENING_LAYER}'s `setWeights` before
 * training (`@imgcls/train`'s `patchWhitening` computes it); until then it holds random weights.
 * `classifierActivation: 'linear'` gives the scaled logits.
 *
 * @throws InvalidArgumentError for a bad input shape, class count or widths.
 */
export function airbench(options: AirbenchOptions = {}): tfl.LayersModel {
  const inputShape = checkInputShape(options.inputShape ?? [32, 32, 3], 16);
  const classes = options.classes ?? 10;
  checkInteger('classes', classes, 1, 100_000);
  const widths = options.widths ?? [64, 256, 256];
  if (widths.length !== 3)
    throw new InvalidArgumentError(`widths must hold three channel counts, got ${widths.length}.`);
  for (const width of widths) checkInteger('widths', width, 1, 4096);
  let seed = options.seed;
  const uniform = () => {
    // PyTorch's default for convolutions and dense layers, U(±1/√fan_in), which airbench keeps.
    const initializer = tfl.initializers.varianceScaling({
      scale: 1 / 3,
      mode: 'fanIn',
      distribution: 'uniform',
      ...(seed === undefined ? {} : { seed: seed++ }),
    });
    return initializer;
  };

  const input = tfl.input({ shape: [...inputShape], name: 'input' });
  const whiten = tfl.layers.conv2d({
    filters: 2 * 3 * WHITENING_KERNEL_SIZE ** 2,
    kernelSize: WHITENING_KERNEL_SIZE,
    padding: 'valid',
    useBias: true,
    name: WHITENING_LAYER,
    kernelInitializer: uniform(),
  });
  const gelu = (x: tfl.SymbolicTensor, name: string) =>
    tfl.layers.activation({ activation: 'gelu', name }).apply(x) as tfl.SymbolicTensor;
  const norms: tfl.layers.Layer[] = [];
  const convolutions: tfl.layers.Layer[] = [];
  const convolution = (x: tfl.SymbolicTensor, filters: number, name: string) => {
    const layer = tfl.layers.conv2d({
      filters,
      kernelSize: 3,
      padding: 'same',
      useBias: false,
      name,
      kernelInitializer: uniform(),
    });
    convolutions.push(layer);
    return layer.apply(x) as tfl.SymbolicTensor;
  };
  const norm = (x: tfl.SymbolicTensor, name: string) => {
    const layer = tfl.layers.batchNormalization({ ...BN, name });
    norms.push(layer);
    return layer.apply(x) as tfl.SymbolicTensor;
  };

  let x = gelu(whiten.apply(input) as tfl.SymbolicTensor, 'whiten_gelu');
  widths.forEach((filters, index) => {
    const group = `group${index + 1}`;
    x = convolution(x, filters, `${group}_conv1`);
    x = tfl.layers
      .maxPooling2d({ poolSize: 2, name: `${group}_pool` })
      .apply(x) as tfl.SymbolicTensor;
    x = gelu(norm(x, `${group}_bn1`), `${group}_gelu1`);
    x = convolution(x, filters, `${group}_conv2`);
    x = gelu(norm(x, `${group}_bn2`), `${group}_gelu2`);
  });
  x = tfl.layers.globalMaxPooling2d({ name: 'global_max_pool' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers
    .dense({ units: classes, useBias: false, name: 'predictions', kernelInitializer: uniform() })
    .apply(x) as tfl.SymbolicTensor;
  let output = tfl.layers
    .rescaling({ scale: 1 / 9, offset: 0, name: 'logit_scale' })
    .apply(x) as tfl.SymbolicTensor;
  if ((options.classifierActivation ?? 'softmax') === 'softmax')
    output = tfl.layers.softmax({ name: 'softmax' }).apply(output) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: output, name: 'airbench' });

  // Frozen parts. Not serialised (model.json keeps no per-weight trainable flag): they matter for training.
  for (const layer of norms) freeze(layer, 'gamma');
  freeze(whiten, 'kernel');
  for (const layer of convolutions) diracInit(layer);
  return model;
}

/** Name of airbench's whitening convolution (weights: kernel [2, 2, 3, 24], bias [24]). */
export const WHITENING_LAYER = 'whiten';

/** Marks the weight of `layer` whose name ends in `/suffix` as not trainable. */
function freeze(layer: tfl.layers.Layer, suffix: string): void {
  const weight = layer.weights.find((candidate) => candidate.originalName.endsWith(`/${suffix}`));
  if (!weight) throw new Error(`layer ${layer.name} has no ${suffix}`);
  weight.trainable = false;
}

/** Overwrites a 3x3 kernel's first min(in, out) output channels with the identity (centre tap). */
function diracInit(layer: tfl.layers.Layer): void {
  const kernel = layer.weights[0] as tfl.LayerVariable;
  const [height, width, inputs, outputs] = kernel.shape as [number, number, number, number];
  const values = kernel.read().dataSync().slice();
  const shared = Math.min(inputs, outputs);
  for (let row = 0; row < height; row++)
    for (let column = 0; column < width; column++)
      for (let input = 0; input < inputs; input++)
        for (let output = 0; output < shared; output++) {
          const centre = row === (height - 1) / 2 && column === (width - 1) / 2;
          values[((row * width + column) * inputs + input) * outputs + output] =
            centre && input === output ? 1 : 0;
        }
  const identity = tf.tensor4d(values, [height, width, inputs, outputs]);
  kernel.write(identity);
  identity.dispose();
}
