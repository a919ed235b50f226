import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/**
 * hlb-CIFAR10's lookahead, as airbench uses it: every `every` steps from epoch `fromEpoch` on, an
 * exponential moving average of every model weight (batch-norm statistics included) moves towards the
 * weights, `ema ← ema + (1 − ρ)(w − ema)`, and the weights jump back to it; ρ = `decay`·(step/total)^`power`
 * grows over training, so averaging is weak early and strong at the end. At each epoch end the weights
 * are set to the average.
 */
export interface LookaheadOptions {
  /** Steps between averages. Default 5. */
  readonly every?: number;
  /** First epoch (0-based) that averages. Default 3. */
  readonly fromEpoch?: number;
  /** ρ at the last step. Default 0.95⁵. */
  readonly decay?: number;
  /** How ρ grows with the share of steps done. Default 3. */
  readonly power?: number;
}

/** The moving average behind {@link LookaheadOptions}; the loop owns one per run. */
export class Lookahead {
  readonly every: number;
  readonly fromEpoch: number;
  private readonly decay: number;
  private readonly power: number;
  private average: tf.Variable[] | undefined;

  constructor(options: LookaheadOptions = {}) {
    this.every = options.every ?? 5;
    this.fromEpoch = options.fromEpoch ?? 3;
    this.decay = options.decay ?? 0.95 ** 5;
    this.power = options.power ?? 3;
  }

  /** The settings, for checkpoints: a run resumed with other ones is refused. */
  settings(): Required<LookaheadOptions> {
    return { every: this.every, fromEpoch: this.fromEpoch, decay: this.decay, power: this.power };
  }

  /** Averages at `step` of `totalSteps` (the first call only takes the weights as the average). */
  step(weights: readonly tfl.LayerVariable[], step: number, totalSteps: number): void {
    if (!this.average) {
      this.average = weights.map((weight) => tf.variable(weight.read(), false));
      return;
    }
    this.blend(weights, this.decay * (step / totalSteps) ** this.power);
  }

  /** Sets the weights to the average, when there is one (at epoch ends). */
  settle(weights: readonly tfl.LayerVariable[]): void {
    if (this.average) this.blend(weights, 1);
  }

  /** The average by weight position, for checkpoints (owned by this object). */
  state(): tf.Tensor[] {
    return this.average ?? [];
  }

  /** Replaces the average with copies of `saved` (none: no average yet). */
  restore(saved: readonly tf.Tensor[]): void {
    this.dispose();
    this.average = saved.length > 0 ? saved.map((tensor) => tf.variable(tensor, false)) : undefined;
  }

  dispose(): void {
    for (const variable of this.average ?? []) variable.dispose();
    this.average = undefined;
  }

  private blend(weights: readonly tfl.LayerVariable[], rho: number): void {
    const average = this.average as tf.Variable[];
    tf.tidy(() => {
      weights.forEach((weight, index) => {
        const mean = average[index] as tf.Variable;
        const value = weight.read();
        if (value.dtype !== 'float32') return;
        mean.assign(tf.add(mean, tf.mul(tf.sub(value, mean), 1 - rho)));
        weight.write(mean);
      });
    });
  }
}
