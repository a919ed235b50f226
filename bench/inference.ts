/**
 * MobileNetV2-224 inference on the wasm backend: batch-1 latency, batch-32 throughput, and the overhead of
 * `classify()` over a bare `model.predict`, next to the PyTorch CPU peer measured in the same invocation.
 * The model is the real quantised MobileNetV2 from ../shared/data imported with importTflite.
 * Usage: node --conditions=@imgcls/source --import tsx inference.ts [--no-peer]
 */
import { readFileSync } from 'node:fs';
import { loadClassifier } from '@imgcls/classifier';
import { importTflite, parseLabelsFile } from '@imgcls/models';
import * as tf from '@tensorflow/tfjs-core';
import { sharedData } from '../tooling/test-data';
import { runTorchPeer } from './lib/torch-peer';

const modelPath = sharedData('mobilenet-v2/mobilenet_v2_1.0_224_quant.tflite');
const labelsPath = sharedData('mobilenet-v2/imagenet_labels.txt');
if (!modelPath || !labelsPath) {
  console.error(
    'bench/inference needs ../shared/data/mobilenet-v2 (the real MobileNetV2); nothing measured.',
  );
  process.exit(1);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function time(runs: number, body: () => Promise<void> | void): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await body();
    times.push(performance.now() - started);
  }
  return times;
}

const classifier = await loadClassifier(modelPath, {
  labels: parseLabelsFile(readFileSync(labelsPath, 'utf8')),
});
console.log(
  `backend ${classifier.info().backend}, SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT')}`,
);
const imported = importTflite(new Uint8Array(readFileSync(modelPath)));
const single = tf.randomUniform([1, 224, 224, 3], -1, 1, 'float32', 1);
const batch = tf.randomUniform([32, 224, 224, 3], -1, 1, 'float32', 2);
const predict = (x: tf.Tensor) => {
  const y = imported.model.predict(x) as tf.Tensor;
  y.dataSync();
  y.dispose();
};
await time(3, () => predict(single));
const batch1 = median(await time(20, () => predict(single)));
predict(batch);
const batch32 = (32 * 1000) / median(await time(3, () => predict(batch)));
// classify() on an already-decoded 224x224 image (preprocessing, forward, softmax, ranking) against a bare
// predict of the same network, interleaved so that load drift on the machine affects both alike.
const pixels = { data: new Uint8Array(224 * 224 * 3).fill(127), width: 224, height: 224 };
await time(3, () => classifier.classify(pixels).then(() => undefined));
const bare: number[] = [];
const full: number[] = [];
for (let i = 0; i < 15; i++) {
  bare.push(...(await time(1, () => predict(single))));
  full.push(...(await time(1, () => classifier.classify(pixels).then(() => undefined))));
}
const classifyMs = median(full);
const bareMs = median(bare);

const peer = process.argv.includes('--no-peer')
  ? { unavailable: 'skipped (--no-peer)' }
  : runTorchPeer();
const torch = 'unavailable' in peer ? undefined : peer;
if (!torch) console.log(`PyTorch peer: none (${(peer as { unavailable: string }).unavailable})`);
const row = (name: string, ours: string, theirs: string, ratio: string, target: string) =>
  console.log(
    `${name.padEnd(28)} ${ours.padStart(10)} ${theirs.padStart(10)} ${ratio.padStart(8)}   ${target}`,
  );
console.log('');
row('measure', 'imgcls', 'torch', 'ratio', 'target');
row(
  'batch-1 latency (ms, median)',
  batch1.toFixed(1),
  torch?.mobileNetV2Batch1Ms?.toFixed(1) ?? '—',
  torch?.mobileNetV2Batch1Ms ? (torch.mobileNetV2Batch1Ms / batch1).toFixed(2) : '—',
  `≤ 45 ${batch1 <= 45 ? 'met' : 'not met'}`,
);
row(
  'batch-32 throughput (img/s)',
  batch32.toFixed(1),
  torch?.mobileNetV2Batch32ImagesPerSecond?.toFixed(1) ?? '—',
  torch?.mobileNetV2Batch32ImagesPerSecond
    ? (batch32 / torch.mobileNetV2Batch32ImagesPerSecond).toFixed(2)
    : '—',
  `≥ 30 ${batch32 >= 30 ? 'met' : 'not met'}`,
);
const overhead = (classifyMs / bareMs - 1) * 100;
row(
  'classify() overhead vs predict',
  `${overhead.toFixed(1)}%`,
  '',
  '',
  `≤ 5% ${overhead <= 5 ? 'met' : 'not met'}`,
);
tf.dispose([single, batch]);
imported.model.dispose();
classifier.dispose();
