/**
 * Training throughput (images/s) of the seed CNN, ResNet-9, airbench and MobileNetV2 (alpha 0.35, 96x96)
 * on the wasm backend with @imgcls/wasm-grad, next to the PyTorch CPU peer measured in the same invocation,
 * at the peer's batch sizes (seed CNN 128, ResNet-9 64; the peer does not train airbench).
 * Usage: node --conditions=@imgcls/source --import tsx train-throughput.ts [--quick] [--no-peer]
 *   [--threads N] [--profile] [--net <name>]
 * --threads: XNNPACK threads through setWasmBackendWithThreads (default: every core, at most 8, as the
 * PyTorch peer uses them; 1 is tfjs' stock backend). On cores busy with other work threads can be slower,
 * see the wasm-grad README. --profile: also print the most expensive kernels per step. --net: only the
 * nets whose name contains <name> (case-insensitive), e.g. `--net resnet`.
 */
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
// The union package registers tfjs-core's gradients (tfjs-core alone registers none).
import '@tensorflow/tfjs';
import { airbench, mobileNetV2, resNet9, seedCnn } from '@imgcls/models';
import { registerWasmGradients } from '@imgcls/wasm-grad';
import type * as tfl from '@tensorflow/tfjs-layers';
import { formatKernelTimes, type KernelTimes, profileKernels } from './lib/kernel-profile';
import { runTorchPeer } from './lib/torch-peer';
import { startWasmFromArguments } from './lib/wasm-threads';

const quick = process.argv.includes('--quick');
const profile = process.argv.includes('--profile');
const netFilter = process.argv.includes('--net')
  ? process.argv[process.argv.indexOf('--net') + 1]?.toLowerCase()
  : undefined;

interface Net {
  readonly name: string;
  readonly build: () => tfl.LayersModel;
  readonly size: number;
  readonly batch: number;
  readonly steps: number;
  readonly peer?: 'trainSeedCnnImagesPerSecond' | 'trainResNet9ImagesPerSecond';
  readonly target?: number;
}

const NETS: Net[] = [
  {
    name: 'seed CNN',
    build: () => seedCnn({ seed: 1 }),
    size: 32,
    batch: 128, // the peer's batch for this net
    steps: quick ? 2 : 8,
    peer: 'trainSeedCnnImagesPerSecond',
    target: 400,
  },
  {
    name: 'ResNet-9',
    build: () => resNet9({ seed: 1 }),
    size: 32,
    batch: 64,
    steps: quick ? 2 : 4,
    peer: 'trainResNet9ImagesPerSecond',
    target: 25,
  },
  {
    name: 'airbench',
    build: () => airbench({ seed: 1 }),
    size: 32,
    batch: 256, // the shipped recipe's batch
    steps: quick ? 2 : 4,
  },
  {
    name: 'MobileNetV2 0.35 96px',
    build: () => mobileNetV2({ alpha: 0.35, inputShape: [96, 96, 3], classes: 10, seed: 1 }),
    size: 96,
    batch: 32,
    steps: quick ? 2 : 4,
  },
];

/** Images per second of `model.fit`-style SGD steps (forward, backward, update) on synthetic data. */
async function measure(net: Net, kernelTimes?: KernelTimes): Promise<number> {
  const model = net.build();
  const optimizer = tf.train.momentum(0.01, 0.9);
  const images = tf.randomUniform([net.batch, net.size, net.size, 3], 0, 1, 'float32', 1);
  const labels = tf.oneHot(tf.randomUniform([net.batch], 0, 10, 'int32', 2), 10).toFloat();
  const step = () =>
    optimizer.minimize(
      () =>
        tf.losses.softmaxCrossEntropy(labels, model.apply(images, { training: true }) as tf.Tensor),
      true,
    );
  // Warm-up: XNNPACK operator creation, wasm memory growth; steps 2–4 were still up to 40% slower.
  for (let i = 0; i < 4; i++) (await step())?.dispose();
  kernelTimes?.clear();
  const started = performance.now();
  for (let i = 0; i < net.steps; i++) {
    const loss = step();
    await loss?.data();
    loss?.dispose();
  }
  const seconds = (performance.now() - started) / 1000;
  tf.dispose([images, labels]);
  optimizer.dispose();
  model.dispose();
  return (net.steps * net.batch) / seconds;
}

const activeThreads = await startWasmFromArguments();
registerWasmGradients();
const kernelTimes = profile ? profileKernels('wasm') : undefined;
console.log(
  `backend wasm, SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT')}, XNNPACK threads ${activeThreads}${profile ? ', kernels timed (slower)' : ''}`,
);
const peer = process.argv.includes('--no-peer')
  ? { unavailable: 'skipped (--no-peer)' }
  : runTorchPeer();
if ('unavailable' in peer)
  console.log(`PyTorch peer: none (${peer.unavailable}); printing absolute numbers only`);
else console.log(`PyTorch peer: torch ${peer.version}`);

console.log('\nnet                      imgcls img/s   torch img/s   ratio   target');
for (const net of NETS.filter((candidate) =>
  netFilter ? candidate.name.toLowerCase().includes(netFilter) : true,
)) {
  const ours = await measure(net, kernelTimes);
  const theirs = !('unavailable' in peer) && net.peer ? peer[net.peer] : undefined;
  const ratio = theirs ? (ours / theirs).toFixed(2) : '—';
  const target = net.target ? `${net.target} ${ours >= net.target ? 'met' : 'not met'}` : '—';
  console.log(
    `${net.name.padEnd(24)} ${ours.toFixed(1).padStart(13)} ${(theirs?.toFixed(1) ?? '—').padStart(13)} ${ratio.padStart(7)}   ${target}`,
  );
  if (kernelTimes) console.log(formatKernelTimes(kernelTimes, net.steps));
}
