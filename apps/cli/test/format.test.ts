import { describe, expect, it } from 'vitest';
import { CSV_HEADER, formatOutcome } from '../src/format';

const outcome = {
  input: 'photos/a "cat", maybe.jpg',
  predictions: [
    { label: 'Egyptian cat', index: 285, probability: 0.875 },
    { label: 'tabby, tabby cat', index: 281, probability: 0.0625 },
  ],
};

describe('formatOutcome', () => {
  it('writes one CSV row per prediction, quoting fields with commas and quotes', () => {
    const rows = formatOutcome(outcome, 'csv');
    expect(CSV_HEADER.split(',')).toHaveLength(6);
    expect(rows).toEqual([
      '"photos/a ""cat"", maybe.jpg",1,Egyptian cat,285,0.875000,',
      '"photos/a ""cat"", maybe.jpg",2,"tabby, tabby cat",281,0.062500,',
    ]);
  });

  it('writes one JSON object per input so results stream as NDJSON', () => {
    const [line, ...rest] = formatOutcome(outcome, 'json');
    expect(rest).toEqual([]);
    expect(JSON.parse(line ?? '')).toEqual(outcome);
  });

  it('reports a failed input with its error code in every format', () => {
    const failed = { input: 'bad.jpg', error: { code: 'INVALID_IMAGE', message: 'not an image' } };
    expect(formatOutcome(failed, 'text')).toEqual(['bad.jpg: error INVALID_IMAGE: not an image']);
    expect(formatOutcome(failed, 'csv')).toEqual(['bad.jpg,,,,,INVALID_IMAGE: not an image']);
  });

  it('prints ranked percentages in text', () => {
    const lines = formatOutcome(outcome, 'text');
    expect(lines[0]).toBe(outcome.input);
    expect(lines[1]).toMatch(/^ {2}1\. Egyptian cat\s+87\.50%$/);
  });
});
