import * as tfl from '@tensorflow/tfjs-layers';
import {
  type CommonOptions,
  checkInputShape,
  checkInteger,
  classifierHead,
  initializers,
} from './options';

/**
 * The original prototype's CIFAR-10 network: four blocks of a 3x3 'same' ReLU convolution (32, 64, 128,
 * 256 filters) and 2x2 max pooling, then flatten, dense 64 with ReLU, dropout 0.3 and the classifier.
 * Kept as a baseline: trained with our recipe it shows what the recipe alone buys.
 */
export function seedCnn(options: CommonOptions = {}): tfl.LayersModel {
  const inputShape = checkInputShape(options.inputShape ?? [32, 32, 3], 16);
  const classes = options.classes ?? 10;
  checkInteger('classes', classes, 1, 100_000);
  const init = initializers(options.seed);
  const input = tfl.input({ shape: [...inputShape], name: 'input' });
  let x = input;
  [32, 64, 128, 256].forEach((filters, index) => {
    const block = `block${index + 1}`;
    x = tfl.layers
      .conv2d({
        filters,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        name: `${block}_conv`,
        kernelInitializer: init.conv(),
      })
      .apply(x) as tfl.SymbolicTensor;
    x = tfl.layers
      .maxPooling2d({ poolSize: 2, name: `${block}_pool` })
      .apply(x) as tfl.SymbolicTensor;
  });
  x = tfl.layers.flatten({ name: 'flatten' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers
    .dense({ units: 64, activation: 'relu', name: 'dense', kernelInitializer: init.dense() })
    .apply(x) as tfl.SymbolicTensor;
  x = tfl.layers
    .dropout({ rate: 0.3, name: 'dropout', seed: options.seed })
    .apply(x) as tfl.SymbolicTensor;
  const output = classifierHead(x, classes, options.classifierActivation, init);
  return tfl.model({ inputs: input, outputs: output, name: 'seed_cnn' });
}
