import { describe, expect, it } from 'vitest';
import { constant, cosine, oneCycle, stepDecay, triangular, warmup } from '../src/index';

describe('learning-rate schedules (closed forms)', () => {
  it('constant and step decay', () => {
    expect(constant(0.1)(1234)).toBe(0.1);
    const schedule = stepDecay(0.1, 10, 0.5);
    expect([0, 9, 10, 25].map(schedule)).toEqual([0.1, 0.1, 0.05, 0.025]);
  });

  it('cosine annealing hits its ends and its midpoint', () => {
    const schedule = cosine(0.2, 100, 0.02);
    expect(schedule(0)).toBeCloseTo(0.2, 12);
    expect(schedule(50)).toBeCloseTo(0.11, 12);
    expect(schedule(100)).toBeCloseTo(0.02, 12);
    expect(schedule(500)).toBeCloseTo(0.02, 12);
  });

  it('warm-up ramps linearly, then hands over', () => {
    const schedule = warmup(4, constant(0.4));
    expect([0, 1, 2, 3, 4, 10].map(schedule)).toEqual([
      0.1, 0.2, 0.30000000000000004, 0.4, 0.4, 0.4,
    ]);
  });

  it('one-cycle starts at max/25, peaks at max after 30% of the steps, ends at max/25e4', () => {
    const schedule = oneCycle(0.4, 1000);
    expect(schedule(0)).toBeCloseTo(0.4 / 25, 12);
    expect(schedule(299)).toBeCloseTo(0.4, 12);
    expect(schedule(999)).toBeCloseTo(0.4 / 25 / 1e4, 12);
    for (let step = 1; step < 299; step++)
      expect(schedule(step)).toBeGreaterThan(schedule(step - 1));
    for (let step = 300; step < 1000; step++)
      expect(schedule(step)).toBeLessThan(schedule(step - 1));
  });

  it('triangular rises linearly from 0.2×rate to rate at 23% of the steps, then falls to 0.07×rate', () => {
    const schedule = triangular(2, 100);
    expect(schedule(0)).toBeCloseTo(0.4, 12);
    expect(schedule(23)).toBeCloseTo(2, 12);
    expect(schedule(100)).toBeCloseTo(0.14, 12);
    expect(schedule(400)).toBeCloseTo(0.14, 12);
    // Linear on each side: equal steps change the rate equally.
    expect(schedule(10) - schedule(9)).toBeCloseTo(schedule(20) - schedule(19), 12);
    expect(schedule(50) - schedule(49)).toBeCloseTo(schedule(90) - schedule(89), 12);
  });
});
