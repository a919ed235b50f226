import { describe, expect, it } from 'vitest';
import { stratifiedSubset } from '../src/dataset';

describe('stratifiedSubset', () => {
  // 3 classes with 50, 30 and 5 examples, interleaved.
  const labels = Array.from({ length: 85 }, (_, index) =>
    index < 15 ? index % 3 : index < 75 ? (index % 2 === 0 ? 0 : 1) : 0,
  );
  const count = (picked: number[], label: number) =>
    picked.filter((index) => labels[index] === label).length;

  it('gives every class the same share while it has images, and is sorted and distinct', () => {
    const picked = stratifiedSubset(labels, 30, 1);
    expect(picked).toHaveLength(30);
    expect(new Set(picked).size).toBe(30);
    expect([...picked].sort((a, b) => a - b)).toEqual(picked);
    // Class 2 has only 5 images; the other two share the rest evenly.
    expect([count(picked, 0), count(picked, 1), count(picked, 2)]).toEqual([13, 12, 5]);
  });

  it('picks the same images for the same seed and others for another seed', () => {
    expect(stratifiedSubset(labels, 20, 7)).toEqual(stratifiedSubset(labels, 20, 7));
    expect(stratifiedSubset(labels, 20, 7)).not.toEqual(stratifiedSubset(labels, 20, 8));
  });

  it('returns everything when the limit is not below the size', () => {
    expect(stratifiedSubset(labels, 500, 1)).toEqual(labels.map((_, index) => index));
  });
});
