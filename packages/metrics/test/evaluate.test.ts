import { describe, expect, it } from 'vitest';
import {
  compare,
  evaluate,
  formatComparison,
  type LabelledBatch,
  type Predictor,
  quantile,
} from '../src/index';

/** A fake clock that advances by the given step on each read: predict calls take known time. */
function steppingClock(stepsMs: number[]): () => number {
  let time = 0;
  let call = 0;
  return () => {
    const value = time;
    // Each batch reads the clock twice (before and after predict); advance after the first read.
    if (call % 2 === 0) time += stepsMs[(call / 2) % stepsMs.length] as number;
    call++;
    return value;
  };
}

// Inputs are the class each fake model will predict, with a confidence; labels are the truth.
const batches: Array<LabelledBatch<Array<[number, number]>>> = [
  {
    inputs: [
      [0, 0.9],
      [1, 0.8],
      [1, 0.6],
    ],
    labels: [0, 1, 0],
    ids: ['a.jpg', 'b.jpg', 'c.jpg'],
  },
  {
    inputs: [
      [2, 0.95],
      [2, 0.5],
    ],
    labels: [2, 1],
    ids: ['d.jpg', 'e.jpg'],
  },
];

function fakeModel(name: string): Predictor<Array<[number, number]>> {
  return {
    name,
    parameters: 1234,
    predict: (inputs) =>
      inputs.map(([predicted, confidence]) =>
        [0, 1, 2].map((k) => (k === predicted ? confidence : (1 - confidence) / 2)),
      ),
  };
}

describe('evaluate', () => {
  it('measures a predictor over streamed batches', async () => {
    async function* stream() {
      yield* batches;
    }
    const result = await evaluate(fakeModel('fake'), stream(), {
      now: steppingClock([30, 10]),
      topK: [1, 2],
      worstExamples: 2,
    });
    expect(result.examples).toBe(5);
    expect(result.accuracy).toBeCloseTo(3 / 5, 12);
    expect(result.confusion.counts).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 1]);
    expect(result.confidence.correct.count).toBe(3);
    expect(result.confidence.correct.mean).toBeCloseTo((0.9 + 0.8 + 0.95) / 3, 12);
    expect(result.confidence.wrong.mean).toBeCloseTo((0.6 + 0.5) / 2, 12);
    // Per-image latency: 30 ms / 3 images and 10 ms / 2 images.
    expect(result.latencyMs.p50).toBeCloseTo(7.5, 12);
    expect(result.latencyMs.p95).toBeCloseTo(5 + 0.95 * 5, 12);
    // Worst: c.jpg gives its true class 0.2, e.jpg gives its true class 0.25.
    expect(result.worst.map((example) => example.id)).toEqual(['c.jpg', 'e.jpg']);
    expect(result.mostConfused.map((pair) => [pair.trueClass, pair.predictedClass])).toEqual([
      [0, 1],
      [1, 2],
    ]);
    expect(result.topK.top1).toBeCloseTo(0.6, 12);
    expect(result.topK.top2).toBeGreaterThanOrEqual(result.topK.top1 as number);
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });

  it('rejects an empty dataset and a predictor that returns the wrong number of rows', async () => {
    await expect(evaluate(fakeModel('fake'), [])).rejects.toThrow(/yielded no examples/);
    const short: Predictor<number[]> = { name: 'short', predict: () => [[1, 0]] };
    await expect(evaluate(short, [{ inputs: [1, 2], labels: [0, 1] }])).rejects.toThrow(
      /returned 1 predictions for a batch of 2/,
    );
  });

  it('interpolates quantiles', () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([], 0.5)).toBe(0);
  });
});

describe('compare', () => {
  it('evaluates every model on the same data and renders one table', async () => {
    const comparison = await compare([fakeModel('model A'), fakeModel('model B')], () => batches, {
      now: steppingClock([10]),
    });
    expect(comparison.rows.map((row) => row.name)).toEqual(['model A', 'model B']);
    expect(comparison.rows[0]?.accuracy).toBeCloseTo(0.6, 12);
    expect(comparison.rows[0]?.meanConfidence).toBeCloseTo((0.9 + 0.8 + 0.6 + 0.95 + 0.5) / 5, 12);
    const markdown = formatComparison(comparison.rows);
    expect(markdown.split('\n')[0]).toBe(
      '| model | accuracy | macro F1 | ECE | mean confidence | p50 ms/image | parameters | size |',
    );
    expect(markdown).toContain('| model A | 60.00% |');
    expect(formatComparison(comparison.rows, 'text').split('\n')).toHaveLength(3);
  });
});
