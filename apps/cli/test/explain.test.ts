import { describe, expect, it } from 'vitest';
import { resolveClass } from '../src/commands/explain';
import { UsageError } from '../src/errors';

describe('resolveClass (imgcls explain --class)', () => {
  const labels = ['cat', 'Dog', 'bow tie, bow-tie, bowtie', '7'];

  it('takes a label exactly, case-insensitively, or by one of its synonyms', () => {
    expect(resolveClass('cat', labels)).toBe(0);
    expect(resolveClass('dog', labels)).toBe(1);
    expect(resolveClass('bowtie', labels)).toBe(2);
    expect(resolveClass('Bow Tie', labels)).toBe(2);
  });

  it('prefers a label over an index, and takes an index otherwise', () => {
    expect(resolveClass('7', labels)).toBe(3);
    expect(resolveClass('2', labels)).toBe(2);
  });

  it('rejects anything else with a usage error naming example labels', () => {
    for (const value of ['horse', '4', '-1', '1.5']) {
      const error = (() => {
        try {
          resolveClass(value, labels);
        } catch (thrown) {
          return thrown;
        }
      })();
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toContain('index from 0 to 3');
    }
  });
});
