import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO_ROOT } from '../../tooling/test-data';

/** Figures printed by the PyTorch (CPU) peer, measured on this machine in the same invocation. */
export interface TorchPeerFigures {
  /** PyTorch version and thread count, as the peer printed them. */
  readonly version: string;
  /** Training throughput of the seed CNN, images per second (batch 128, 32x32). */
  readonly trainSeedCnnImagesPerSecond?: number;
  /** Training throughput of ResNet-9, images per second (batch 64, 32x32). */
  readonly trainResNet9ImagesPerSecond?: number;
  /** MobileNetV2-224 inference, batch 1, milliseconds per image. */
  readonly mobileNetV2Batch1Ms?: number;
  /** MobileNetV2-224 inference, batch 32, images per second. */
  readonly mobileNetV2Batch32ImagesPerSecond?: number;
}

/** The peer script beside the repository, or the one named by `IMGCLS_TORCH_PEER`. */
export const TORCH_PEER_PATH =
  process.env.IMGCLS_TORCH_PEER ?? resolve(REPO_ROOT, '../shared/peers/torch-peer');

const FIGURE_PATTERNS = {
  trainSeedCnnImagesPerSecond: /^train seed-cnn img\/s ([\d.]+)/m,
  trainResNet9ImagesPerSecond: /^train resnet9 img\/s ([\d.]+)/m,
  mobileNetV2Batch1Ms: /^mobilenetv2 b1 ms ([\d.]+)/m,
  mobileNetV2Batch32ImagesPerSecond: /^mobilenetv2 b32 img\/s ([\d.]+)/m,
} as const;

/** Parses the peer's output; figures it did not print are left out. */
export function parseTorchPeerOutput(output: string): TorchPeerFigures {
  const version = /^torch (.+)$/m.exec(output)?.[1] ?? 'unknown';
  const figures: Record<string, number> = {};
  for (const [name, pattern] of Object.entries(FIGURE_PATTERNS)) {
    const match = pattern.exec(output);
    if (match?.[1]) figures[name] = Number(match[1]);
  }
  return { version, ...figures };
}

/**
 * Runs the PyTorch peer once (it measures everything in one go, ~1-2 minutes) and returns its figures,
 * or a reason why there are none; benchmarks then print absolute numbers only and say so.
 */
export function runTorchPeer(): TorchPeerFigures | { readonly unavailable: string } {
  if (!existsSync(TORCH_PEER_PATH)) return { unavailable: `no peer at ${TORCH_PEER_PATH}` };
  const run = spawnSync(TORCH_PEER_PATH, [], { encoding: 'utf8', timeout: 10 * 60_000 });
  if (run.status !== 0) {
    return {
      unavailable: `peer exited ${run.status}: ${(run.stderr || run.stdout).trim().slice(-300)}`,
    };
  }
  return parseTorchPeerOutput(run.stdout);
}
