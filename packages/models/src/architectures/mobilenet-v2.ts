import { InvalidArgumentError } from '@imgcls/preprocess/errors';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  type CommonOptions,
  checkInputShape,
  checkInteger,
  classifierHead,
  initializers,
} from './options';

/** Options of {@link mobileNetV2}; defaults match `keras.applications.MobileNetV2`. */
export interface MobileNetV2Options extends CommonOptions {
  /** Width multiplier: 0.35, 0.5, 0.75, 1.0, 1.3 and 1.4 have published weights; any value in (0, 2] builds. */
  readonly alpha?: number;
  /** Add global average pooling and the `predictions` dense layer. Default true. */
  readonly includeTop?: boolean;
  /** Without the top: pool the last feature map (`'avg'` or `'max'`), or leave it 4-D (undefined). */
  readonly pooling?: 'avg' | 'max';
  /** Dropout rate before `predictions` (0 = none, as in Keras). */
  readonly dropout?: number;
}

// (expansion t, output channels c, stride s) of the 17 inverted residual blocks, block ids 0..16.
const BLOCKS: ReadonlyArray<readonly [number, number, number]> = [
  [1, 16, 1],
  [6, 24, 2],
  [6, 24, 1],
  [6, 32, 2],
  [6, 32, 1],
  [6, 32, 1],
  [6, 64, 2],
  [6, 64, 1],
  [6, 64, 1],
  [6, 64, 1],
  [6, 96, 1],
  [6, 96, 1],
  [6, 96, 1],
  [6, 160, 2],
  [6, 160, 1],
  [6, 160, 1],
  [6, 320, 1],
];

// Keras' MobileNetV2 batch-norm settings; kept so converted weights behave identically.
const BN = { epsilon: 1e-3, momentum: 0.999 } as const;

/**
 * Rounds a channel count to a multiple of `divisor`, never below `divisor` or 90% of the value: the
 * width-multiplier rounding of the MobileNet papers and Keras (`_make_divisible`).
 */
export function makeDivisible(value: number, divisor = 8): number {
  const rounded = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  return rounded < 0.9 * value ? rounded + divisor : rounded;
}

/**
 * MobileNetV2 (Sandler et al. 2018) as a TF.js layers model with exactly the layer names and structure
 * of `keras.applications.MobileNetV2`, so weights converted from Keras load by name.
 *
 * @throws InvalidArgumentError for an alpha outside (0, 2], an input smaller than 32x32, or bad options.
 */
export function mobileNetV2(options: MobileNetV2Options = {}): tfl.LayersModel {
  const alpha = options.alpha ?? 1.0;
  if (!(alpha > 0 && alpha <= 2))
    throw new InvalidArgumentError(`alpha must be in (0, 2], got ${alpha}.`);
  const inputShape = checkInputShape(options.inputShape ?? [224, 224, 3], 32);
  const includeTop = options.includeTop ?? true;
  const classes = options.classes ?? 1000;
  checkInteger('classes', classes, 1, 100_000);
  const dropout = options.dropout ?? 0;
  if (!(dropout >= 0 && dropout < 1))
    throw new InvalidArgumentError(`dropout must be in [0, 1), got ${dropout}.`);
  const init = initializers(options.seed);

  const input = tfl.input({ shape: [...inputShape], name: 'input_1' });
  let x = tfl.layers
    .conv2d({
      filters: makeDivisible(32 * alpha),
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      useBias: false,
      name: 'Conv1',
      kernelInitializer: init.conv(),
    })
    .apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ ...BN, name: 'bn_Conv1' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reLU({ maxValue: 6, name: 'Conv1_relu' }).apply(x) as tfl.SymbolicTensor;

  BLOCKS.forEach(([expansion, channels, stride], blockId) => {
    x = invertedResidualBlock(x, {
      expansion,
      stride,
      filters: makeDivisible(Math.trunc(channels * alpha)),
      blockId,
      init,
    });
  });

  const lastChannels = alpha > 1 ? makeDivisible(1280 * alpha) : 1280;
  x = tfl.layers
    .conv2d({
      filters: lastChannels,
      kernelSize: 1,
      useBias: false,
      name: 'Conv_1',
      kernelInitializer: init.conv(),
    })
    .apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ ...BN, name: 'Conv_1_bn' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reLU({ maxValue: 6, name: 'out_relu' }).apply(x) as tfl.SymbolicTensor;

  if (includeTop) {
    x = tfl.layers
      .globalAveragePooling2d({ name: 'global_average_pooling2d' })
      .apply(x) as tfl.SymbolicTensor;
    if (dropout > 0)
      x = tfl.layers.dropout({ rate: dropout, name: 'dropout' }).apply(x) as tfl.SymbolicTensor;
    x = classifierHead(x, classes, options.classifierActivation, init);
  } else if (options.pooling === 'avg') {
    x = tfl.layers
      .globalAveragePooling2d({ name: 'global_average_pooling2d' })
      .apply(x) as tfl.SymbolicTensor;
  } else if (options.pooling === 'max') {
    x = tfl.layers
      .globalMaxPooling2d({ name: 'global_max_pooling2d' })
      .apply(x) as tfl.SymbolicTensor;
  }
  return tfl.model({
    inputs: input,
    outputs: x,
    name: `mobilenetv2_${alpha.toFixed(2)}_${inputShape[0]}`,
  });
}

function invertedResidualBlock(
  inputs: tfl.SymbolicTensor,
  block: {
    expansion: number;
    stride: number;
    filters: number;
    blockId: number;
    init: ReturnType<typeof initializers>;
  },
): tfl.SymbolicTensor {
  const inChannels = inputs.shape[3] as number;
  const prefix = block.blockId === 0 ? 'expanded_conv_' : `block_${block.blockId}_`;
  let x = inputs;
  if (block.blockId > 0) {
    x = tfl.layers
      .conv2d({
        filters: block.expansion * inChannels,
        kernelSize: 1,
        padding: 'same',
        useBias: false,
        name: `${prefix}expand`,
        kernelInitializer: block.init.conv(),
      })
      .apply(x) as tfl.SymbolicTensor;
    x = tfl.layers
      .batchNormalization({ ...BN, name: `${prefix}expand_BN` })
      .apply(x) as tfl.SymbolicTensor;
    x = tfl.layers
      .reLU({ maxValue: 6, name: `${prefix}expand_relu` })
      .apply(x) as tfl.SymbolicTensor;
  }
  if (block.stride === 2) {
    x = tfl.layers
      .zeroPadding2d({ padding: correctPad(x), name: `${prefix}pad` })
      .apply(x) as tfl.SymbolicTensor;
  }
  x = tfl.layers
    .depthwiseConv2d({
      kernelSize: 3,
      strides: block.stride,
      padding: block.stride === 1 ? 'same' : 'valid',
      useBias: false,
      name: `${prefix}depthwise`,
      depthwiseInitializer: block.init.conv(),
    })
    .apply(x) as tfl.SymbolicTensor;
  x = tfl.layers
    .batchNormalization({ ...BN, name: `${prefix}depthwise_BN` })
    .apply(x) as tfl.SymbolicTensor;
  x = tfl.layers
    .reLU({ maxValue: 6, name: `${prefix}depthwise_relu` })
    .apply(x) as tfl.SymbolicTensor;
  x = tfl.layers
    .conv2d({
      filters: block.filters,
      kernelSize: 1,
      padding: 'same',
      useBias: false,
      name: `${prefix}project`,
      kernelInitializer: block.init.conv(),
    })
    .apply(x) as tfl.SymbolicTensor;
  x = tfl.layers
    .batchNormalization({ ...BN, name: `${prefix}project_BN` })
    .apply(x) as tfl.SymbolicTensor;
  if (inChannels === block.filters && block.stride === 1) {
    return tfl.layers.add({ name: `${prefix}add` }).apply([inputs, x]) as tfl.SymbolicTensor;
  }
  return x;
}

/** Keras' `correct_pad`: the padding before a 3x3 stride-2 'valid' depthwise conv that mimics TF 'same'. */
function correctPad(x: tfl.SymbolicTensor): [[number, number], [number, number]] {
  const height = x.shape[1] as number;
  const width = x.shape[2] as number;
  return [
    [height % 2, 1],
    [width % 2, 1],
  ];
}
