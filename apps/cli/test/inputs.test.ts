import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expandInputs } from '../src/inputs';

describe('expandInputs', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'imgcls-inputs-'));
    mkdirSync(join(root, 'photos/nested'), { recursive: true });
    for (const file of [
      'photos/b.png',
      'photos/a.JPG',
      'photos/nested/c.webp',
      'photos/notes.txt',
      'd.bmp',
    ]) {
      writeFileSync(join(root, file), 'x');
    }
    mkdirSync(join(root, 'empty'));
  });

  it('walks directories for image files in a stable order and keeps files and URLs as given', async () => {
    const { inputs, missing } = await expandInputs(
      ['photos', 'd.bmp', 'https://example.test/x.jpg'],
      root,
    );
    expect(missing).toEqual([]);
    expect(inputs).toEqual([
      { kind: 'file', path: join(root, 'photos/a.JPG') },
      { kind: 'file', path: join(root, 'photos/b.png') },
      { kind: 'file', path: join(root, 'photos/nested/c.webp') },
      { kind: 'file', path: join(root, 'd.bmp') },
      { kind: 'url', url: 'https://example.test/x.jpg' },
    ]);
  });

  it('expands globs to image files only', async () => {
    const { inputs } = await expandInputs(['photos/*'], root);
    expect(inputs.map((input) => (input.kind === 'file' ? input.path : ''))).toEqual([
      join(root, 'photos/a.JPG'),
      join(root, 'photos/b.png'),
    ]);
  });

  it('lists arguments that matched nothing with a reason, without failing the rest', async () => {
    const { inputs, missing } = await expandInputs(['nope.jpg', 'empty', '*.gif', 'd.bmp'], root);
    expect(inputs).toHaveLength(1);
    expect(missing.map((entry) => entry.argument)).toEqual(['nope.jpg', 'empty', '*.gif']);
  });
});
