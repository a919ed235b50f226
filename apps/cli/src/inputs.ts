import { stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { glob } from 'tinyglobby';

/** Image file endings the CLI picks up when it walks a directory or a glob. */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.bmp', '.tif', '.tiff'];

/** One thing to classify: a local file or an http(s) URL, as the user will see it named. */
export type ClassifyInput =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'url'; readonly url: string };

/** An argument that named nothing classifiable; reported, never fatal for the other inputs. */
export interface MissingInput {
  readonly argument: string;
  readonly reason: string;
}

const HAS_GLOB_SYNTAX = /[*?[\]{}]/;

/**
 * Expands the `classify` arguments — files, directories (walked recursively for image files),
 * glob patterns and http(s) URLs — into inputs in a stable order, with the arguments that matched
 * nothing listed separately.
 */
export async function expandInputs(
  argumentsGiven: readonly string[],
  cwd = process.cwd(),
): Promise<{ inputs: ClassifyInput[]; missing: MissingInput[] }> {
  const inputs: ClassifyInput[] = [];
  const missing: MissingInput[] = [];
  const imagePattern = `**/*.{${IMAGE_EXTENSIONS.map((ending) => ending.slice(1)).join(',')}}`;
  for (const argument of argumentsGiven) {
    if (/^https?:\/\//i.test(argument)) {
      inputs.push({ kind: 'url', url: argument });
      continue;
    }
    const path = resolve(cwd, argument);
    const stats = await stat(path).catch(() => undefined);
    if (stats?.isFile()) {
      inputs.push({ kind: 'file', path });
    } else if (stats?.isDirectory()) {
      const files = await glob(imagePattern, {
        cwd: path,
        absolute: true,
        caseSensitiveMatch: false,
      });
      if (files.length === 0)
        missing.push({ argument, reason: 'the directory holds no image files' });
      for (const file of files.sort()) inputs.push({ kind: 'file', path: file });
    } else if (HAS_GLOB_SYNTAX.test(argument)) {
      const files = (await glob(argument, { cwd, absolute: true, onlyFiles: true }))
        .filter((file) => IMAGE_EXTENSIONS.includes(extname(file).toLowerCase()))
        .sort();
      if (files.length === 0)
        missing.push({ argument, reason: 'the pattern matched no image files' });
      for (const file of files) inputs.push({ kind: 'file', path: file });
    } else {
      missing.push({ argument, reason: 'no such file or directory' });
    }
  }
  return { inputs, missing };
}

/** The name an input is reported under. */
export function inputName(input: ClassifyInput): string {
  return input.kind === 'file' ? input.path : input.url;
}
