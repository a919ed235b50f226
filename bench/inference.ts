/**
 * MobileNetV2-224 inference on the wasm backend: batch-1 latency and batch-32 throughput of tf.layers'
 * predict and of the compiled program loadClassifier runs (compileLayersModel), and the overhead of
 * `classify()` over a bare forward pass, next to the PyTorch CPU peer measured in the same invocation.
 * The model is the real quantised MobileNetV2 from ../shared/data imported with importTflite.
 * Usage: node --conditions=@imgcls/source --import tsx inference.ts [--no-peer] [--threads N]
 * --threads: XNNPACK threads through setWasmBackendWithThreads (default: every core, at most 8, as the
 * PyTorch peer uses them; 1 is tfjs' stock backend). With N > 1, wall time is what
 * the threads buy; CPU time then counts every thread, so it is no longer an idle-core estimate.
 */
import { readFileSync } from 'node:fs';
import { loadClassifier } from '@imgcls/classifier';
import { compileLayersModel, importTflite, parseLabelsFile } from '@imgcls/models';
import * as tf from '@tensorflow/tfjs-core';
import { sharedData } from '../tooling/test-data';
import { runTorchPeer } from './lib/torch-peer';
import { startWasmFromArguments } from './lib/wasm-threads';

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

const threads = await startWasmFromArguments();
const classifier = await loadClassifier(modelPath, {
  labels: parseLabelsFile(readFileSync(labelsPath, 'utf8')),
});
console.log(
  `backend ${classifier.info().backend}, SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT')}, XNNPACK threads ${threads}`,
);
const imported = importTflite(new Uint8Array(readFileSync(modelPath)));
// "layers": tf.layers' own predict (symbolic execution, ReLU6 as Relu + Minimum passes); "compiled": the
// straight-line fused program loadClassifier runs (compileLayersModel).
const compiled = compileLayersModel(imported.model);
if (!compiled) throw new Error('the imported MobileNetV2 should compile');
const single = tf.randomUniform([1, 224, 224, 3], -1, 1, 'float32', 1);
const batch = tf.randomUniform([32, 224, 224, 3], -1, 1, 'float32', 2);
const engines = {
  layers: (x: tf.Tensor) => imported.model.predict(x) as tf.Tensor,
  compiled: (x: tf.Tensor) => compiled.execute(x),
};
const run = (engine: keyof typeof engines, x: tf.Tensor) => {
  const y = engines[engine](x);
  y.dataSync();
  y.dispose();
};
const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};
/**
 * Median wall and CPU milliseconds of each engine on one input, the engines interleaved so load drift
 * hits them alike. On one thread, CPU time is what the run would take on an idle core.
 */
async function interleaved(
  x: tf.Tensor,
  rounds: number,
): Promise<Record<keyof typeof engines, { wall: number; cpu: number }>> {
  const wall = { layers: [] as number[], compiled: [] as number[] };
  const cpu = { layers: [] as number[], compiled: [] as number[] };
  for (let i = 0; i < rounds; i++)
    for (const engine of ['layers', 'compiled'] as const) {
      const started = cpuMs();
      wall[engine].push(...(await time(1, () => run(engine, x))));
      cpu[engine].push(cpuMs() - started);
    }
  return {
    layers: { wall: median(wall.layers), cpu: median(cpu.layers) },
    compiled: { wall: median(wall.compiled), cpu: median(cpu.compiled) },
  };
}
for (const engine of ['layers', 'compiled'] as const) {
  await time(3, () => run(engine, single));
  run(engine, batch);
}
const batch1Ms = await interleaved(single, 20);
const batch32Ms = await interleaved(batch, 3);
const batch1 = { layers: batch1Ms.layers.wall, compiled: batch1Ms.compiled.wall };
const batch32 = {
  layers: (32 * 1000) / batch32Ms.layers.wall,
  compiled: (32 * 1000) / batch32Ms.compiled.wall,
};
// classify() on an already-decoded 224x224 image (preprocessing, forward, softmax, ranking) against a bare
// run of the program it executes, interleaved as above. Compared by CPU time: on a loaded machine the wall
// time of single runs varies far more than the few milliseconds being measured.
const pixels = { data: new Uint8Array(224 * 224 * 3).fill(127), width: 224, height: 224 };
await time(3, () => classifier.classify(pixels).then(() => undefined));
const bare: number[] = [];
const full: number[] = [];
for (let i = 0; i < 30; i++) {
  let started = cpuMs();
  run('compiled', single);
  bare.push(cpuMs() - started);
  started = cpuMs();
  await classifier.classify(pixels);
  full.push(cpuMs() - started);
}
const classifyMs = median(full);
const bareMs = median(bare);

const peer = process.argv.includes('--no-peer')
  ? { unavailable: 'skipped (--no-peer)' }
  : runTorchPeer();
const torch = 'unavailable' in peer ? undefined : peer;
if (!torch) console.log(`PyTorch peer: none (${(peer as { unavailable: string }).unavailable})`);
const row = (...cells: string[]) =>
  console.log(
    cells.map((cell, index) => (index === 0 ? cell.padEnd(30) : cell.padStart(10))).join(' '),
  );
const torchB1 = torch?.mobileNetV2Batch1Ms;
const torchB32 = torch?.mobileNetV2Batch32ImagesPerSecond;
console.log('');
row('measure', 'layers', 'compiled', 'torch', 'torch/ours', 'target');
row(
  'batch-1 latency (ms, median)',
  batch1.layers.toFixed(1),
  batch1.compiled.toFixed(1),
  torchB1?.toFixed(1) ?? '—',
  torchB1 ? (torchB1 / batch1.compiled).toFixed(2) : '—',
  `≤ 45 ${batch1.compiled <= 45 ? 'met' : 'not met'}`,
);
row(
  'batch-32 throughput (img/s)',
  batch32.layers.toFixed(1),
  batch32.compiled.toFixed(1),
  torchB32?.toFixed(1) ?? '—',
  torchB32 ? (batch32.compiled / torchB32).toFixed(2) : '—',
  `≥ 30 ${batch32.compiled >= 30 ? 'met' : 'not met'}`,
);
row(
  'batch-1 CPU time (ms)',
  batch1Ms.layers.cpu.toFixed(1),
  batch1Ms.compiled.cpu.toFixed(1),
  '',
  '',
  threads === 1 ? 'idle-core estimate' : `all ${threads} threads`,
);
row(
  'batch-32 img/s of CPU time',
  ((32 * 1000) / batch32Ms.layers.cpu).toFixed(1),
  ((32 * 1000) / batch32Ms.compiled.cpu).toFixed(1),
  '',
  '',
  threads === 1 ? 'idle-core estimate' : `all ${threads} threads`,
);
const overhead = (classifyMs / bareMs - 1) * 100;
row(
  'classify() overhead (CPU time)',
  '',
  `${overhead.toFixed(1)}%`,
  '',
  '',
  `≤ 5% ${overhead <= 5 ? 'met' : 'not met'}`,
);
console.log(
  `compiled vs layers: ${(batch1.layers / batch1.compiled).toFixed(2)}x at batch 1, ${(batch32.compiled / batch32.layers).toFixed(2)}x at batch 32`,
);
tf.dispose([single, batch]);
compiled.dispose();
imported.model.dispose();
classifier.dispose();
