import { InvalidArgumentError } from '@imgcls/preprocess/errors';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  type CommonOptions,
  checkInputShape,
  checkInteger,
  classifierHead,
  initializers,
} from './options';

// PyTorch's BatchNorm2d defaults (momentum 0.1 there is 0.9 in Keras' convention), as in the
// DAWNBench ResNet-9 this mirrors.
const BN = { momentum: 0.9, epsilon: 1e-5 } as const;

/** Options of {@link resNet9}. */
export interface ResNet9Options extends CommonOptions {
  /**
   * Multiplies the logits before the final activation, as Myrtle's DAWNBench entry does (0.125) to
   * temper the loss early in training. Default 1: no scaling, and `predictions` is the last layer.
   * Otherwise `predictions` gives unscaled logits, followed by `logit_scale` and, for softmax, `softmax`.
   */
  readonly logitScale?: number;
  /**
   * Multiplies every layer's channel count (64, 128, 256, 512 at 1); 0.5 gives 32–256 channels and about
   * a quarter of the multiply-adds, for CPUs where the full network trains too slowly. Default 1.
   */
  readonly width?: number;
}

/**
 * ResNet-9 (the DAWNBench / Myrtle CIFAR-10 network): conv-BN-ReLU 64, 128 + max pool, residual(128),
 * 256 + max pool, 512 + max pool, residual(512), global max pool, dense classifier. Convolutions are
 * 3x3 'same' without bias; `width` scales every channel count. `classifierActivation: 'linear'` gives logits (for a from-logits loss);
 * `logitScale` adds Myrtle's final scale.
 *
 * @throws InvalidArgumentError for a bad input shape, class count, width, or a logitScale that is not positive.
 */
export function resNet9(options: ResNet9Options = {}): tfl.LayersModel {
  const inputShape = checkInputShape(options.inputShape ?? [32, 32, 3], 8);
  const classes = options.classes ?? 10;
  checkInteger('classes', classes, 1, 100_000);
  const logitScale = options.logitScale ?? 1;
  if (!(Number.isFinite(logitScale) && logitScale > 0))
    throw new InvalidArgumentError(`logitScale must be a positive number, got ${logitScale}.`);
  const width = options.width ?? 1;
  if (!(Number.isFinite(width) && width > 0 && width <= 8))
    throw new InvalidArgumentError(`width must be a number above 0 and at most 8, got ${width}.`);
  const channels = (base: number) => Math.max(1, Math.round(base * width));
  const init = initializers(options.seed);

  const convBnRelu = (x: tfl.SymbolicTensor, filters: number, name: string): tfl.SymbolicTensor => {
    let y = tfl.layers
      .conv2d({
        filters,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        name: `${name}_conv`,
        kernelInitializer: init.conv(),
      })
      .apply(x) as tfl.SymbolicTensor;
    y = tfl.layers.batchNormalization({ ...BN, name: `${name}_bn` }).apply(y) as tfl.SymbolicTensor;
    return tfl.layers.reLU({ name: `${name}_relu` }).apply(y) as tfl.SymbolicTensor;
  };
  const residual = (x: tfl.SymbolicTensor, filters: number, name: string): tfl.SymbolicTensor => {
    const branch = convBnRelu(convBnRelu(x, filters, `${name}_a`), filters, `${name}_b`);
    return tfl.layers.add({ name: `${name}_add` }).apply([x, branch]) as tfl.SymbolicTensor;
  };
  const pool = (x: tfl.SymbolicTensor, name: string) =>
    tfl.layers.maxPooling2d({ poolSize: 2, name }).apply(x) as tfl.SymbolicTensor;

  const input = tfl.input({ shape: [...inputShape], name: 'input' });
  let x = convBnRelu(input, channels(64), 'prep');
  x = pool(convBnRelu(x, channels(128), 'layer1'), 'layer1_pool');
  x = residual(x, channels(128), 'layer1_res');
  x = pool(convBnRelu(x, channels(256), 'layer2'), 'layer2_pool');
  x = pool(convBnRelu(x, channels(512), 'layer3'), 'layer3_pool');
  x = residual(x, channels(512), 'layer3_res');
  x = tfl.layers.globalMaxPooling2d({ name: 'global_max_pool' }).apply(x) as tfl.SymbolicTensor;
  const activation = options.classifierActivation ?? 'softmax';
  if (logitScale === 1) {
    const output = classifierHead(x, classes, activation, init);
    return tfl.model({ inputs: input, outputs: output, name: 'resnet9' });
  }
  x = classifierHead(x, classes, 'linear', init);
  let output = tfl.layers
    .rescaling({ scale: logitScale, offset: 0, name: 'logit_scale' })
    .apply(x) as tfl.SymbolicTensor;
  if (activation === 'softmax')
    output = tfl.layers.softmax({ name: 'softmax' }).apply(output) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output, name: 'resnet9' });
}
