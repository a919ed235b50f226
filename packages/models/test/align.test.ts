import { describe, expect, it } from 'vitest';
import {
  alignLabels,
  CIFAR10_LABELS,
  ClassMismatchError,
  IMAGENET_LABELS,
  IMAGENET_TO_CIFAR10,
} from '../src/index';

describe('alignLabels', () => {
  it('maps identical labels to themselves', () => {
    const alignment = alignLabels(['cat', 'dog'], ['cat', 'dog']);
    expect(alignment).toMatchObject({ kind: 'identical', mapping: [0, 1], unreachable: [] });
  });

  it('reorders labels by name', () => {
    expect(alignLabels(['dog', 'bird', 'cat'], ['bird', 'cat', 'dog'])).toMatchObject({
      kind: 'reordered',
      mapping: [2, 0, 1],
    });
  });

  it('drops model classes the dataset lacks', () => {
    expect(alignLabels(['dog', 'bird', 'cat'], ['cat', 'dog'])).toMatchObject({
      kind: 'restricted',
      mapping: [1, -1, 0],
    });
  });

  it('names the dataset classes the model cannot predict', () => {
    expect(() => alignLabels(['cat', 'dog'], ['cat', 'elephant', 'zebra'])).toThrow(
      ClassMismatchError,
    );
    expect(() => alignLabels(['cat', 'dog'], ['cat', 'elephant'])).toThrow(/"elephant"/);
  });

  it('uses the ImageNet → CIFAR-10 mapping for an ImageNet model on CIFAR-10 classes', () => {
    // A label file that spells one class differently is still recognised as ImageNet.
    const labels = IMAGENET_LABELS.map((label, index) => (index === 107 ? 'jellyfish' : label));
    const alignment = alignLabels(labels, CIFAR10_LABELS);
    expect(alignment.kind).toBe('imagenet-to-cifar10');
    expect(alignment.unreachable).toEqual(['deer']);
    expect(alignment.description).toMatch(/zero-shot/);
    // Every ImageNet class listed for a CIFAR-10 class maps to that class's index; the rest to -1.
    const expected = new Array<number>(1000).fill(-1);
    CIFAR10_LABELS.forEach((name, cifarIndex) => {
      for (const index of IMAGENET_TO_CIFAR10[name as keyof typeof IMAGENET_TO_CIFAR10])
        expected[index] = cifarIndex;
    });
    expect(alignment.mapping).toEqual(expected);
    expect(alignment.mapping[207]).toBe(5); // golden retriever → dog
  });

  it('follows the dataset order for a subset of CIFAR-10', () => {
    const alignment = alignLabels(IMAGENET_LABELS, ['truck', 'cat']);
    expect(alignment.mapping[867]).toBe(0); // trailer truck
    expect(alignment.mapping[281]).toBe(1); // tabby
    expect(alignment.mapping[207]).toBe(-1); // dogs are not in this dataset
  });
});
