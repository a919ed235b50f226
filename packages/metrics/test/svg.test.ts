import { describe, expect, it } from 'vitest';
import {
  confusionMatrix,
  confusionMatrixSvg,
  expectedCalibrationError,
  perClassF1Svg,
  precisionRecallF1,
  reliabilityDiagramSvg,
  trainingCurvesSvg,
} from '../src/index';
import { niceTicks } from '../src/svg/ticks';

/** Checks that every tag opened is closed in order: a small well-formedness test without a parser. */
function expectWellFormed(svg: string): void {
  const stack: string[] = [];
  for (const match of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = match;
    if (selfClosing) continue;
    if (closing) expect(stack.pop()).toBe(name);
    else stack.push(name as string);
  }
  expect(stack).toEqual([]);
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(svg).toMatch(/<title id="[^"]+">/);
  expect(svg).toMatch(/<desc id="[^"]+">/);
  expect(svg).not.toMatch(/NaN|undefined|Infinity/);
}

const names = ['air<plane>', 'auto & mobile', 'bird'];

describe('SVG pictures', () => {
  const matrix = confusionMatrix([0, 0, 1, 2, 2], [0, 1, 1, 2, 0], 3);

  it('draws a confusion matrix with escaped labels and every count', () => {
    const svg = confusionMatrixSvg(matrix, { labels: names });
    expectWellFormed(svg);
    expect(svg).toContain('air&lt;plane&gt;');
    expect(svg).toContain('auto &amp; mobile');
    expect(svg.match(/<rect x=/g)).toHaveLength(9);
  });

  it('keeps a 1000-class confusion matrix readable by showing the classes with the most errors', () => {
    const truth = Array.from({ length: 3000 }, (_, i) => i % 1000);
    const predicted = truth.map((label, i) => (i % 7 === 0 ? (label + 1) % 1000 : label));
    const svg = confusionMatrixSvg(confusionMatrix(truth, predicted, 1000), { maxClasses: 12 });
    expectWellFormed(svg);
    expect(svg.match(/<rect x=/g)).toHaveLength(144);
    expect(svg).toContain('Showing the 12 of 1000 classes');
  });

  it('draws a reliability diagram, per-class F1 bars and training curves', () => {
    const calibration = expectedCalibrationError(
      [0, 1, 1],
      [
        [0.9, 0.1],
        [0.4, 0.6],
        [0.2, 0.8],
      ],
      5,
    );
    expectWellFormed(reliabilityDiagramSvg(calibration));
    expectWellFormed(perClassF1Svg(precisionRecallF1(matrix).perClass, { labels: names }));
    const curves = trainingCurvesSvg(
      [
        {
          name: 'train loss',
          points: [
            { x: 1, y: 2.1 },
            { x: 2, y: 1.4 },
            { x: 3, y: 1.1 },
          ],
        },
        {
          name: 'validation loss',
          points: [
            { x: 1, y: 2.0 },
            { x: 2, y: 1.6 },
            { x: 3, y: 1.5 },
          ],
          dashed: true,
        },
      ],
      { yLabel: 'loss' },
    );
    expectWellFormed(curves);
    expect(curves).toContain('stroke-dasharray');
    // Axis labels at round numbers spanning the data: losses 1.1–2.1 (from 0), epochs 1–3 (from 0).
    const labels = (anchor: string) =>
      [...curves.matchAll(new RegExp(`text-anchor="${anchor}">([^<]+)<`, 'g'))].map((m) => m[1]);
    expect(labels('end')).toEqual(['0', '0.5', '1', '1.5', '2', '2.5']);
    expect(labels('middle').slice(0, 4)).toEqual(['0', '1', '2', '3']);
  });
});

describe('niceTicks', () => {
  it('puts ticks at round numbers around the range', () => {
    expect(niceTicks(0, 1.7078)).toEqual([0, 0.5, 1, 1.5, 2]);
    expect(niceTicks(0, 20)).toEqual([0, 5, 10, 15, 20]);
    expect(niceTicks(0, 10)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 3840)).toEqual([0, 1000, 2000, 3000, 4000]);
    expect(niceTicks(0.3, 0.9)).toEqual([0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(-0.23, 0.41)).toEqual([-0.4, -0.2, 0, 0.2, 0.4, 0.6]);
    expect(niceTicks(0.3, 0.6)).toEqual([0.3, 0.4, 0.5, 0.6]);
  });

  it('gives an empty range one unit', () => {
    expect(niceTicks(0, 0)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(3, 3)).toEqual([3, 3.2, 3.4, 3.6, 3.8, 4]);
  });
});
