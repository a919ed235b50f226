import * as tf from '@tensorflow/tfjs-core';

/** An optimizer whose state is a set of named tensors, so checkpoints can save and restore it exactly. */
export interface Optimizer {
  /**
   * Applies one update with learning rate `rate` to each variable from its gradient. `rateScales`, when
   * given, multiplies the gradient step of each variable (same order), not its weight decay.
   */
  apply(
    variables: readonly tf.Variable[],
    gradients: readonly tf.Tensor[],
    rate: number,
    rateScales?: readonly number[],
  ): void;
  /** The optimizer's state (slots and step count) as named tensors; the caller must not dispose them. */
  state(): Map<string, tf.Tensor>;
  /** Replaces the state with copies of `saved` (names as produced by {@link state}). */
  restore(saved: Map<string, tf.Tensor>): void;
  dispose(): void;
}

/** SGD with (Nesterov) momentum and decoupled weight decay (w ← w − rate · λ · w, outside the momentum). */
export interface SgdOptions {
  readonly momentum?: number;
  readonly nesterov?: boolean;
  readonly weightDecay?: number;
}

/** AdamW (Loshchilov & Hutter): Adam with bias correction and decoupled weight decay. */
export interface AdamWOptions {
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
  readonly weightDecay?: number;
}

abstract class SlotOptimizer implements Optimizer {
  protected readonly slots = new Map<string, tf.Variable>();
  protected steps = 0;

  /**
   * The slot `kind` of the variable at `position` in the list passed to apply(). Slots are keyed by
   * position, not by variable name: TF.js names differ between two builds of the same model, and a
   * resumed run must find its slots again.
   */
  protected slot(position: number, kind: string, like: tf.Tensor): tf.Variable {
    const name = `${position}/${kind}`;
    let slot = this.slots.get(name);
    if (!slot) {
      slot = tf.variable(tf.zerosLike(like), false);
      this.slots.set(name, slot);
    }
    return slot;
  }

  abstract apply(
    variables: readonly tf.Variable[],
    gradients: readonly tf.Tensor[],
    rate: number,
    rateScales?: readonly number[],
  ): void;

  state(): Map<string, tf.Tensor> {
    const state = new Map<string, tf.Tensor>(this.slots);
    state.set('steps', tf.scalar(this.steps, 'int32'));
    return state;
  }

  restore(saved: Map<string, tf.Tensor>): void {
    this.dispose();
    for (const [name, value] of saved) {
      if (name === 'steps') this.steps = value.dataSync()[0] as number;
      else this.slots.set(name, tf.variable(value, false));
    }
  }

  dispose(): void {
    for (const slot of this.slots.values()) slot.dispose();
    this.slots.clear();
  }
}

/** SGD with momentum (Nesterov by default) and decoupled weight decay. */
export class Sgd extends SlotOptimizer {
  private readonly momentum: number;
  private readonly nesterov: boolean;
  private readonly weightDecay: number;

  constructor(options: SgdOptions = {}) {
    super();
    this.momentum = options.momentum ?? 0.9;
    this.nesterov = options.nesterov ?? true;
    this.weightDecay = options.weightDecay ?? 0;
  }

  apply(
    variables: readonly tf.Variable[],
    gradients: readonly tf.Tensor[],
    rate: number,
    rateScales?: readonly number[],
  ): void {
    this.steps++;
    tf.tidy(() => {
      variables.forEach((variable, index) => {
        const gradient = gradients[index] as tf.Tensor;
        const stepRate = rate * (rateScales?.[index] ?? 1);
        const velocity = this.slot(index, 'velocity', variable);
        // PyTorch's formulation: v ← μv + g; step = g + μv (Nesterov) or v.
        const nextVelocity = tf.add(tf.mul(velocity, this.momentum), gradient);
        velocity.assign(nextVelocity);
        const direction = this.nesterov
          ? tf.add(gradient, tf.mul(nextVelocity, this.momentum))
          : nextVelocity;
        let updated = tf.sub(variable, tf.mul(direction, stepRate));
        if (this.weightDecay > 0)
          updated = tf.sub(updated, tf.mul(variable, rate * this.weightDecay));
        variable.assign(updated);
      });
    });
  }
}

/** AdamW: Adam moments with bias correction, weight decay applied to the weights directly. */
export class AdamW extends SlotOptimizer {
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private readonly weightDecay: number;

  constructor(options: AdamWOptions = {}) {
    super();
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
  }

  apply(
    variables: readonly tf.Variable[],
    gradients: readonly tf.Tensor[],
    rate: number,
    rateScales?: readonly number[],
  ): void {
    this.steps++;
    const correction1 = 1 - this.beta1 ** this.steps;
    const correction2 = 1 - this.beta2 ** this.steps;
    tf.tidy(() => {
      variables.forEach((variable, index) => {
        const gradient = gradients[index] as tf.Tensor;
        const first = this.slot(index, 'm', variable);
        const second = this.slot(index, 'v', variable);
        const nextFirst = tf.add(tf.mul(first, this.beta1), tf.mul(gradient, 1 - this.beta1));
        const nextSecond = tf.add(
          tf.mul(second, this.beta2),
          tf.mul(tf.square(gradient), 1 - this.beta2),
        );
        first.assign(nextFirst);
        second.assign(nextSecond);
        const step = tf.div(
          tf.div(nextFirst, correction1),
          tf.add(tf.sqrt(tf.div(nextSecond, correction2)), this.epsilon),
        );
        const decayed =
          this.weightDecay > 0 ? tf.mul(variable, 1 - rate * this.weightDecay) : variable;
        variable.assign(tf.sub(decayed, tf.mul(step, rate * (rateScales?.[index] ?? 1))));
      });
    });
  }
}
