import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CIFAR10_LABELS, mobileNetV2, parseLabelsFile, resNet9, seedCnn } from '@imgcls/models';
import { directoryHandler, type ModelMetadata, writeMetadata } from '@imgcls/models/node';
import { type DecodedImage, decodeImage, ImgclsError, placement } from '@imgcls/preprocess';
import { registerWasmGradients } from '@imgcls/wasm-grad';
import * as tfconv from '@tensorflow/tfjs-converter';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { sharedData } from '../../../tooling/test-data';
import {
  type ImageClassifier,
  loadClassifier,
  selectBackend,
  UnknownLayerError,
} from '../src/index';

/** A seeded uniform generator in [0, 1) (LCG), so synthetic data is the same on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function metadata(
  id: string,
  labels: readonly string[],
  preset: ModelMetadata['preset'],
): ModelMetadata {
  return {
    schemaVersion: 1,
    id,
    name: id,
    version: '1',
    format: 'layers-model',
    labels,
    output: 'probabilities',
    preset,
  };
}

async function save(model: tfl.LayersModel, meta: ModelMetadata): Promise<string> {
  const directory = mkdtempSync(join(tmpdir(), 'imgcls-explain-'));
  await model.save(directoryHandler(directory));
  await writeMetadata(directory, meta);
  return directory;
}

/** Spearman's rank correlation (average ranks for ties): an independent, plain implementation. */
function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ranks = (values: ArrayLike<number>) => {
    const order = Array.from(values, (value, index) => ({ value, index })).sort(
      (x, y) => x.value - y.value,
    );
    const result = new Float64Array(order.length);
    for (let start = 0; start < order.length; ) {
      let end = start;
      while (end + 1 < order.length && order[end + 1]?.value === order[start]?.value) end++;
      for (let k = start; k <= end; k++)
        result[(order[k] as { index: number }).index] = (start + end) / 2;
      start = end + 1;
    }
    return result;
  };
  const [ra, rb] = [ranks(a), ranks(b)];
  const mean = (ra.length - 1) / 2;
  let covariance = 0;
  let varianceA = 0;
  let varianceB = 0;
  for (let i = 0; i < ra.length; i++) {
    const da = (ra[i] as number) - mean;
    const db = (rb[i] as number) - mean;
    covariance += da * db;
    varianceA += da * da;
    varianceB += db * db;
  }
  return covariance / Math.sqrt(varianceA * varianceB);
}

const GREY: ModelMetadata['preset'] = { height: 16, width: 16, resize: 'stretch', range: [0, 1] };

function randomImage(width: number, height: number, seed: number): DecodedImage {
  const next = random(seed);
  return {
    data: Uint8Array.from({ length: width * height * 3 }, () => next() * 256),
    width,
    height,
  };
}

describe('ImageClassifier.explain', () => {
  beforeAll(async () => {
    expect(await selectBackend('wasm')).toBe('wasm');
  });

  it.each([
    ['a dense layer with softmax activation', false],
    ['a separate softmax layer', true],
  ])(
    'equals the class activation map of Zhou et al. on conv → global average pool → %s',
    async (_, softmaxLayer) => {
      // With global average pooling and a dense classifier, the class score is Σ_k W[k,c]·mean(A_k) + b,
      // so Grad-CAM's weights are W[k,c]/(h·w) and its map is the CAM ReLU(Σ_k W[k,c]·A_k), normalised.
      // The reference below is computed from the dense weights, without any gradient; it also checks that
      // the score is taken before softmax (the probability's gradient would mix in the other classes). The
      // convolution is linear so that its maps, and the CAMs, have both signs.
      const input = tfl.input({ shape: [16, 16, 3] });
      const conv = tfl.layers
        .conv2d({
          filters: 8,
          kernelSize: 3,
          padding: 'same',
          activation: 'linear',
          name: 'features',
          kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }),
        })
        .apply(input) as tfl.SymbolicTensor;
      const pooled = tfl.layers.globalAveragePooling2d({}).apply(conv) as tfl.SymbolicTensor;
      let output = tfl.layers
        .dense({
          units: 3,
          activation: softmaxLayer ? 'linear' : 'softmax',
          name: 'predictions',
          kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }),
        })
        .apply(pooled) as tfl.SymbolicTensor;
      if (softmaxLayer) output = tfl.layers.softmax({}).apply(output) as tfl.SymbolicTensor;
      const model = tfl.model({ inputs: input, outputs: output });
      const classifier = await loadClassifier(
        await save(model, metadata('cam', ['a', 'b', 'c'], GREY)),
      );
      const image = randomImage(16, 16, 11);
      const features = tfl.model({ inputs: input, outputs: conv });
      const activations = tf.tidy(() =>
        features.predict(tf.div(tf.tensor4d(image.data, [1, 16, 16, 3], 'float32'), 255)),
      ) as tf.Tensor;
      const maps = await activations.data();
      activations.dispose();
      const kernel = await (model.getLayer('predictions').getWeights()[0] as tf.Tensor).data();
      let informative = 0;
      for (const classIndex of [0, 1, 2]) {
        const cam = new Float64Array(16 * 16);
        for (let pixel = 0; pixel < cam.length; pixel++) {
          let sum = 0;
          for (let k = 0; k < 8; k++)
            sum += (maps[pixel * 8 + k] as number) * (kernel[k * 3 + classIndex] as number);
          cam[pixel] = Math.max(0, sum);
        }
        const low = Math.min(...cam);
        const high = Math.max(...cam);
        const explanation = await classifier.explain(image, { classIndex });
        expect(explanation.layer).toBe('features');
        expect(explanation.prediction.index).toBe(classIndex);
        expect(explanation.prediction.label).toBe(['a', 'b', 'c'][classIndex]);
        // A map without positive evidence anywhere is all zeros.
        if (high > low) informative++;
        explanation.heatmap.data.forEach((value, pixel) => {
          expect(value).toBeCloseTo(
            high > low ? ((cam[pixel] as number) - low) / (high - low) : 0,
            4,
          );
        });
      }
      expect(informative).toBeGreaterThanOrEqual(2);
      classifier.dispose();
    },
  );
});

/** Sum of heat inside a rectangle over the total heat. */
function massInside(
  heatmap: { data: Float32Array; width: number },
  box: readonly number[],
): number {
  const [top, left, height, width] = box as [number, number, number, number];
  let inside = 0;
  let total = 0;
  heatmap.data.forEach((value, pixel) => {
    const y = Math.floor(pixel / heatmap.width);
    const x = pixel % heatmap.width;
    total += value;
    if (y >= top && y < top + height && x >= left && x < left + width) inside += value;
  });
  return inside / total;
}

/**
 * A 32x32 image of one plain colour with, when `box` is given, a square of another colour: the
 * "object". Colours are random but the object always differs from the background by at least 96 in
 * some channel.
 */
function sceneImage(next: () => number, box?: readonly number[]): DecodedImage {
  const background = [0, 1, 2].map(() => Math.floor(next() * 256));
  const object = background.map((value) => value);
  const channel = Math.floor(next() * 3);
  const base = object[channel] as number;
  object[channel] =
    base < 128
      ? base + 96 + Math.floor(next() * (160 - base))
      : base - 96 - Math.floor(next() * (base - 95));
  const data = new Uint8Array(32 * 32 * 3);
  for (let pixel = 0; pixel < 32 * 32; pixel++) {
    const y = Math.floor(pixel / 32);
    const x = pixel % 32;
    const inside =
      box &&
      y >= (box[0] as number) &&
      y < (box[0] as number) + (box[2] as number) &&
      x >= (box[1] as number) &&
      x < (box[1] as number) + (box[3] as number);
    data.set(inside ? object : background, pixel * 3);
  }
  return { data, width: 32, height: 32 };
}

function randomBox(next: () => number): number[] {
  const size = 8;
  return [Math.floor(next() * (32 - size)), Math.floor(next() * (32 - size)), size, size];
}

/** A tiny fully-convolutional net: three 3x3 ReLU convolutions (8x8 last map), global max pool, softmax. */
function objectNet(seed: number): tfl.LayersModel {
  const input = tfl.input({ shape: [32, 32, 3] });
  let x = input;
  [8, 16, 16].forEach((filters, index) => {
    x = tfl.layers
      .conv2d({
        filters,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        name: `conv${index + 1}`,
        kernelInitializer: tfl.initializers.heNormal({ seed: seed + index }),
      })
      .apply(x) as tfl.SymbolicTensor;
    if (index < 2) x = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tfl.SymbolicTensor;
  });
  x = tfl.layers.globalMaxPooling2d({}).apply(x) as tfl.SymbolicTensor;
  const output = tfl.layers
    .dense({
      units: 2,
      activation: 'softmax',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 10 }),
    })
    .apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output });
}

describe('explain on a model that recognises an object', () => {
  let classifier: ImageClassifier;
  let randomised: ImageClassifier;
  const SCENE = { height: 32, width: 32, resize: 'stretch', range: [0, 1] } as const;

  beforeAll(async () => {
    await selectBackend('wasm');
    registerWasmGradients();
    // Trained for a few steps to tell "object" from "background".
    const model = objectNet(10);
    model.compile({
      optimizer: tf.train.adam(0.01),
      loss: 'categoricalCrossentropy',
      metrics: ['accuracy'],
    });
    const next = random(5);
    const batch = (size: number) => {
      const images: DecodedImage[] = [];
      const labels: number[] = [];
      for (let i = 0; i < size; i++) {
        const present = i % 2;
        images.push(sceneImage(next, present ? randomBox(next) : undefined));
        labels.push(present);
      }
      return tf.tidy(() => ({
        xs: tf.div(
          tf.tensor4d(
            Uint8Array.from(images.flatMap((image) => Array.from(image.data))),
            [size, 32, 32, 3],
            'float32',
          ),
          255,
        ),
        ys: tf.oneHot(tf.tensor1d(labels, 'int32'), 2),
      }));
    };
    const train = batch(512);
    const history = await model.fit(train.xs, train.ys, {
      epochs: 4,
      batchSize: 32,
      shuffle: false,
      verbose: 0,
    });
    tf.dispose([train.xs, train.ys]);
    console.log('object detector training accuracy per epoch', history.history.acc);
    const labels = ['background', 'object'];
    classifier = await loadClassifier(await save(model, metadata('object', labels, SCENE)));
    // The same architecture with fresh random weights: Adebayo et al.'s model randomisation test.
    randomised = await loadClassifier(
      await save(objectNet(100), metadata('random', labels, SCENE)),
    );
  });

  it('puts the heat on the object the model recognises (Grad-CAM and Grad-CAM++)', async () => {
    // The object covers 64 of 1024 pixels (6.25%): a heatmap blind to it would hold ~6% of its mass
    // there. The last feature map is 8x8 (4-pixel cells), upsampled bilinearly, so heat spills about
    // one cell around the object; the peak is counted as "on" the object within 2 pixels of it.
    // Measured here: Grad-CAM 0.33 of the mass on the object on average, peak on it in 11/12 images;
    // Grad-CAM++ 0.26. The thresholds ask for 3x the area share and the peak on the object in 3/4.
    const next = random(77);
    for (const method of ['grad-cam', 'grad-cam++'] as const) {
      const fractions: number[] = [];
      let recognised = 0;
      let peaks = 0;
      for (let trial = 0; trial < 12; trial++) {
        const box = randomBox(next);
        const explanation = await classifier.explain(sceneImage(next, box), {
          classIndex: 1,
          method,
        });
        expect(explanation.method).toBe(method);
        if (explanation.prediction.probability > 0.5) recognised++;
        fractions.push(massInside(explanation.heatmap, box));
        const peak = explanation.heatmap.data.indexOf(Math.max(...explanation.heatmap.data));
        const [y, x] = [Math.floor(peak / 32), peak % 32];
        const [top, left] = box as [number, number];
        if (y >= top - 2 && y < top + 10 && x >= left - 2 && x < left + 10) peaks++;
      }
      const meanFraction = fractions.reduce((sum, value) => sum + value, 0) / fractions.length;
      console.log(
        `${method}: object recognised in ${recognised}/12, peak on it in ${peaks}/12, mean heat mass on it ${meanFraction.toFixed(2)} (area share 0.06)`,
      );
      expect(recognised).toBeGreaterThanOrEqual(10);
      expect(meanFraction).toBeGreaterThan(3 * 0.0625);
      if (method === 'grad-cam') expect(peaks).toBeGreaterThanOrEqual(9);
    }
  });

  it('changes the heatmap when the weights are randomised', async () => {
    // Adebayo et al.'s model-randomisation test: an explanation that reflects what the model learned
    // must change when the learned weights are replaced by random ones. Rank correlation (Spearman) is
    // 1 for the same map and near 0 for unrelated maps; a method that mostly shows the input (edges,
    // the object's outline) keeps it high, because a random conv net also responds to edges. Requiring
    // below 0.5 per image (under a quarter of shared rank variance) and below 0.3 on average leaves room
    // for that shared input structure yet fails a weight-blind map. Measured: -0.43 to 0.19, mean -0.1.
    const next = random(99);
    const correlations: number[] = [];
    for (let trial = 0; trial < 8; trial++) {
      const image = sceneImage(next, randomBox(next));
      const trained = await classifier.explain(image, { classIndex: 1 });
      const repeated = await classifier.explain(image, { classIndex: 1 });
      expect(spearman(trained.heatmap.data, repeated.heatmap.data)).toBe(1);
      const random = await randomised.explain(image, { classIndex: 1 });
      correlations.push(spearman(trained.heatmap.data, random.heatmap.data));
    }
    console.log(
      'rank correlation, trained vs randomised object net:',
      correlations.map((value) => value.toFixed(2)).join(' '),
    );
    for (const value of correlations) expect(value).toBeLessThan(0.5);
    expect(correlations.reduce((sum, value) => sum + value, 0) / correlations.length).toBeLessThan(
      0.3,
    );
  });

  it('keeps the tensor count flat over repeated calls', async () => {
    const image = sceneImage(random(3), [4, 4, 8, 8]);
    await classifier.explain(image, { originalSize: true });
    const before = tf.memory().numTensors;
    for (let call = 0; call < 3; call++) {
      await classifier.explain(image, { originalSize: true });
      await classifier.explain(image, { method: 'grad-cam++', layer: 'conv2' });
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

const SEED_CNN_DIR = new URL('../../../models/cifar10-seedcnn', import.meta.url).pathname;
const photos = sharedData('photos');

describe.skipIf(!photos)('sanity checks on the trained CIFAR-10 seed CNN (real photos)', () => {
  it('changes the heatmap when the weights are randomised (Adebayo et al.)', async () => {
    const trained = await loadClassifier(SEED_CNN_DIR);
    const meta = JSON.parse(
      readFileSync(join(SEED_CNN_DIR, 'metadata.json'), 'utf8'),
    ) as ModelMetadata;
    const randomised = await loadClassifier(await save(seedCnn({ seed: 1234 }), meta));
    // Same test and threshold reasoning as for the object net, on real photos. The seed CNN's last map
    // is only 4x4, so single images vary a lot (measured 0.11, -0.32, 0.52); the mean must stay below 0.3.
    const correlations: number[] = [];
    for (const name of ['cat.bmp', 'bird.bmp', 'grace_hopper.bmp']) {
      const path = join(photos as string, name);
      const original = await trained.explain(path);
      expect(original.layer).toBe('block4_conv');
      expect(original.heatmap).toMatchObject({ width: 32, height: 32 });
      expect(original.prediction.label).toBe(CIFAR10_LABELS[original.prediction.index] as string);
      const random = await randomised.explain(path, { classIndex: original.prediction.index });
      correlations.push(spearman(original.heatmap.data, random.heatmap.data));
    }
    console.log(
      'rank correlation, trained vs randomised seed CNN on cat, bird, Grace Hopper:',
      correlations.map((value) => value.toFixed(2)).join(' '),
    );
    expect(correlations.reduce((sum, value) => sum + value, 0) / correlations.length).toBeLessThan(
      0.3,
    );
    trained.dispose();
    randomised.dispose();
  });
});

describe('explain on the project architectures and imported models', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('explains ResNet-9 at its last residual block, with an overlay at the original size', async () => {
    const classifier = await loadClassifier(
      await save(
        resNet9({ seed: 7 }),
        metadata('resnet9', CIFAR10_LABELS, {
          height: 32,
          width: 32,
          resize: 'letterbox',
          range: [0, 1],
        }),
      ),
    );
    const image = randomImage(48, 24, 5); // letterboxed: 32x16 content between 8-pixel bands
    const explanation = await classifier.explain(image, { originalSize: true });
    expect(explanation.layer).toBe('layer3_res_add');
    expect(explanation.heatmap).toMatchObject({ width: 32, height: 32 });
    expect(explanation.heatmap.data).toHaveLength(32 * 32);
    expect(explanation.overlay.data).toHaveLength(32 * 32 * 4);
    expect(Math.min(...explanation.heatmap.data)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...explanation.heatmap.data)).toBeLessThanOrEqual(1);
    const top = (await classifier.classify(image, { topK: 1 }))[0];
    expect(explanation.prediction).toEqual(top);
    const original = explanation.original;
    expect(original?.heatmap).toMatchObject({ width: 48, height: 24 });
    expect(original?.overlay.data).toHaveLength(48 * 24 * 4);
    const before = tf.memory().numTensors;
    await classifier.explain(image, { originalSize: true });
    expect(tf.memory().numTensors).toBe(before);
    classifier.dispose();
  });

  it('gives the same heatmap on wasm (with @imgcls/wasm-grad kernels) as on cpu, through depthwise blocks', async () => {
    // A small MobileNetV2 explained at an early block: the gradient flows back through depthwise and
    // pointwise convolutions, batch norm, ReLU6 and residual adds, which on wasm run the kernels
    // registered by registerWasmGradients(); the cpu backend's stock kernels are the reference.
    const directory = await save(
      mobileNetV2({ inputShape: [32, 32, 3], alpha: 0.35, classes: 4, seed: 3 }),
      metadata('mobilenet-small', ['a', 'b', 'c', 'd'], {
        height: 32,
        width: 32,
        resize: 'stretch',
        range: [-1, 1],
      }),
    );
    const image = randomImage(32, 32, 21);
    const heatmaps: Float32Array[] = [];
    try {
      for (const backend of ['cpu', 'wasm'] as const) {
        const classifier = await loadClassifier(directory, { backend });
        expect(classifier.info().backend).toBe(backend);
        const explanation = await classifier.explain(image, {
          layer: 'block_3_depthwise_relu',
          classIndex: 2,
        });
        heatmaps.push(explanation.heatmap.data);
        classifier.dispose();
      }
    } finally {
      await selectBackend('wasm');
    }
    const [cpu, wasm] = heatmaps as [Float32Array, Float32Array];
    expect(Math.max(...cpu)).toBe(1);
    let largest = 0;
    cpu.forEach((value, pixel) => {
      largest = Math.max(largest, Math.abs(value - (wasm[pixel] as number)));
    });
    expect(largest).toBeLessThan(1e-3);
  });

  it('rejects an unknown layer with the list of valid ones, and a bad class index', async () => {
    const classifier = await loadClassifier(
      await save(
        seedCnn({ seed: 1 }),
        metadata('seed', CIFAR10_LABELS, { ...GREY, height: 32, width: 32 }),
      ),
    );
    const error = await classifier
      .explain(randomImage(8, 8, 1), { layer: 'dense' })
      .catch((thrown: unknown) => thrown);
    expect(ImgclsError.isInstance(error, 'UNKNOWN_LAYER')).toBe(true);
    expect(error).toBeInstanceOf(UnknownLayerError);
    expect((error as UnknownLayerError).validLayers).toEqual([
      'input',
      'block1_conv',
      'block1_pool',
      'block2_conv',
      'block2_pool',
      'block3_conv',
      'block3_pool',
      'block4_conv',
      'block4_pool',
    ]);
    expect((error as Error).message).toContain('"block4_conv"');
    for (const classIndex of [10, -1, 1.5]) {
      const invalid = await classifier
        .explain(randomImage(8, 8, 1), { classIndex })
        .catch((thrown: unknown) => thrown);
      expect(ImgclsError.isInstance(invalid, 'INVALID_ARGUMENT')).toBe(true);
    }
    classifier.dispose();
    const disposed = await classifier.explain(randomImage(8, 8, 1)).catch((e: unknown) => e);
    expect(ImgclsError.isInstance(disposed, 'DISPOSED')).toBe(true);
  });

  it('says so for a model without a spatial feature map', async () => {
    const input = tfl.input({ shape: [4, 4, 3] });
    const flat = tfl.layers.flatten({}).apply(input) as tfl.SymbolicTensor;
    const output = tfl.layers
      .dense({ units: 2, activation: 'softmax' })
      .apply(flat) as tfl.SymbolicTensor;
    const classifier = await loadClassifier(
      await save(
        tfl.model({ inputs: input, outputs: output }),
        metadata('mlp', ['a', 'b'], { height: 4, width: 4, resize: 'stretch', range: [0, 1] }),
      ),
    );
    const error = await classifier.explain(randomImage(4, 4, 2)).catch((e: unknown) => e);
    expect(ImgclsError.isInstance(error, 'EXPLAIN_UNSUPPORTED')).toBe(true);
    classifier.dispose();
  });
});

const tflitePath = sharedData('mobilenet-v2/mobilenet_v2_1.0_224_quant.tflite');
const labelsPath = sharedData('mobilenet-v2/imagenet_labels.txt');

describe.skipIf(!tflitePath || !labelsPath || !photos)(
  'explain on the imported MobileNetV2',
  () => {
    it('explains the real MobileNetV2 on a real photo, at its last 7x7 block', async () => {
      const labels = parseLabelsFile(readFileSync(labelsPath as string, 'utf8'));
      const classifier = await loadClassifier(tflitePath as string, { labels });
      const path = join(photos as string, 'cat.bmp');
      const explanation = await classifier.explain(path, { originalSize: true });
      expect(explanation.prediction.label).toBe('Egyptian cat');
      expect(explanation.layer).toMatch(/Conv_1_Relu6/);
      expect(explanation.heatmap).toMatchObject({ width: 224, height: 224 });
      expect(Math.max(...explanation.heatmap.data)).toBe(1);
      expect(Math.min(...explanation.heatmap.data)).toBeGreaterThanOrEqual(0);
      // Centre crop: outside the crop the original overlay keeps the photo's own pixels.
      const image = await decodeImage(path);
      const original = explanation.original as NonNullable<typeof explanation.original>;
      expect(original.overlay).toMatchObject({ width: image.width, height: image.height });
      const { crop } = placement(image.height, image.width, classifier.metadata.preset);
      expect(crop[0] > 0 || crop[1] > 0).toBe(true); // the photo is not square
      {
        const pixel = 0; // top-left: outside the centred crop
        expect(Array.from(original.overlay.data.slice(pixel * 4, pixel * 4 + 3))).toEqual(
          Array.from(image.data.slice(pixel * 3, pixel * 3 + 3)),
        );
        expect(original.heatmap.data[pixel]).toBe(0);
      }
      const before = tf.memory().numTensors;
      await classifier.explain(path);
      expect(tf.memory().numTensors).toBe(before);
      classifier.dispose();
    });
  },
);

const graphModelDir = sharedData('mobilenet-v2-050-96-feature-vector');

describe.skipIf(!graphModelDir)('explain on a TF.js graph model', () => {
  it('feeds the graph at an intermediate node: a pooled feature is explained by its own map', async () => {
    // The graph ends in global average pooling, so for feature k the score is mean(A_k): Grad-CAM's
    // weights are 1/(h·w) for channel k and 0 elsewhere, and the heatmap is A_k (ReLU6 output, so
    // already ≥ 0), upsampled and rescaled. The reference reads A_k straight from the graph.
    const labels = Array.from({ length: 1280 }, (_, index) => `feature ${index}`);
    const preset = { height: 96, width: 96, resize: 'stretch', range: [0, 1] } as const;
    const classifier = await loadClassifier(graphModelDir as string, {
      metadata: {
        ...metadata('mnv2-features', labels, preset),
        format: 'graph-model',
        output: 'logits',
      },
    });
    const image = randomImage(96, 96, 9);
    const probe = await classifier.explain(image);
    expect(probe.layer).toBe('module_apply_default/MobilenetV2/Conv_1/Relu6');
    const graph = await tfconv.loadGraphModel(directoryHandler(graphModelDir as string));
    const maps = tf.tidy(() =>
      graph.execute(tf.div(tf.tensor4d(image.data, [1, 96, 96, 3], 'float32'), 255), probe.layer),
    ) as tf.Tensor4D;
    const [, height, width, channels] = maps.shape;
    // The feature whose map varies most over space (many are constant, e.g. all 0 or all 6).
    const ranges = await tf
      .tidy(() => tf.sub(tf.max(maps, [0, 1, 2]), tf.min(maps, [0, 1, 2])))
      .data();
    const feature = ranges.indexOf(Math.max(...ranges));
    const reference = tf.tidy(() =>
      tf.image.resizeBilinear(
        tf.slice(maps, [0, 0, 0, feature], [1, height, width, 1]),
        [96, 96],
        false,
        true,
      ),
    );
    const expected = await reference.data();
    tf.dispose([maps, reference]);
    graph.dispose();
    const [low, high] = [Math.min(...expected), Math.max(...expected)];
    const explanation = await classifier.explain(image, { classIndex: feature });
    expect(channels).toBe(1280);
    explanation.heatmap.data.forEach((value, pixel) => {
      expect(value).toBeCloseTo(((expected[pixel] as number) - low) / (high - low), 3);
    });
    const before = tf.memory().numTensors;
    await classifier.explain(image, { classIndex: feature });
    expect(tf.memory().numTensors).toBe(before);
    const error = await classifier.explain(image, { layer: 'nope' }).catch((e: unknown) => e);
    expect(ImgclsError.isInstance(error, 'UNKNOWN_LAYER')).toBe(true);
    classifier.dispose();
  });
});
