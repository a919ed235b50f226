import { extname } from 'node:path';
import { type CamMethod, type ImageClassifier, loadClassifier } from '@imgcls/classifier';
import { decodeImage } from '@imgcls/preprocess';
import type { Command } from 'commander';
import sharp from 'sharp';
import { startBackend } from '../backend';
import { UsageError } from '../errors';
import { modelReference } from '../model-store';
import { positiveInteger } from '../numbers';
import type { Terminal } from '../terminal';

interface ExplainFlags {
  readonly model: string;
  readonly out: string;
  readonly class?: string;
  readonly layer?: string;
  readonly method: string;
  readonly alpha: string;
  readonly size: string;
  readonly json?: boolean;
  readonly maxPixels?: string;
}

const METHODS: readonly CamMethod[] = ['grad-cam', 'grad-cam++'];
const SIZES = ['original', 'input'] as const;

/**
 * The label index a `--class` value names: a label of the model (exact, then case-insensitive, then one
 * of the comma-separated synonyms ImageNet labels carry, e.g. "bow tie" in "bow tie, bow-tie, bowtie"),
 * else an index into its labels.
 */
export function resolveClass(value: string, labels: readonly string[]): number {
  const exact = labels.indexOf(value);
  if (exact >= 0) return exact;
  const lower = value.trim().toLowerCase();
  const loose = labels.findIndex((label) => label.toLowerCase() === lower);
  if (loose >= 0) return loose;
  const synonym = labels.findIndex((label) =>
    label.split(',').some((name) => name.trim().toLowerCase() === lower),
  );
  if (synonym >= 0) return synonym;
  const index = Number(value);
  if (/^\d+$/.test(value) && index < labels.length) return index;
  const examples = labels
    .slice(0, 3)
    .map((label) => `"${label}"`)
    .join(', ');
  throw new UsageError(
    `--class "${value}" is neither a label of this model nor an index from 0 to ${labels.length - 1}`,
    `pass a label such as ${examples}, or an index; \`imgcls classify\` shows the labels the model predicts`,
  );
}

/** `imgcls explain`: a Grad-CAM heatmap of one image, blended over it and written as a PNG. */
export function registerExplain(program: Command, terminal: () => Terminal): void {
  program
    .command('explain')
    .description(
      'show where in an image the evidence for a class lies (Grad-CAM), as a PNG overlay',
    )
    .argument('<image>', 'image file (JPEG, PNG, WebP, GIF, TIFF, AVIF or BMP)')
    .requiredOption('-o, --out <file.png>', 'where to write the overlay PNG')
    .option(
      '-m, --model <id|path|url>',
      'registered model id, model folder or model.json URL',
      'mobilenet-v2',
    )
    .option('-c, --class <label|index>', 'class to explain (default: the top prediction)')
    .option('--layer <name>', 'layer whose feature map is used (default: the last conv block)')
    .option('--method <name>', `${METHODS.join(' or ')}`, 'grad-cam')
    .option('--alpha <0..1>', 'opacity of the heatmap colours', '0.5')
    .option(
      '--size <original|input>',
      "overlay on the original image, or on the model's input view",
      'original',
    )
    .option('--json', 'print the result as one JSON object')
    .option('--max-pixels <n>', 'reject images larger than this many pixels (default 50 million)')
    .addHelpText(
      'after',
      `
Examples:
  imgcls explain cat.jpg --out cat-heatmap.png
  imgcls explain cat.jpg --class "tabby" --out tabby.png
  imgcls explain plane.png --model cifar10 --size input --json --out plane-cam.png`,
    )
    .action(async (image: string, flags: ExplainFlags) => {
      const out = terminal();
      if (extname(flags.out).toLowerCase() !== '.png')
        throw new UsageError(`--out must name a .png file, got "${flags.out}"`);
      if (!METHODS.includes(flags.method as CamMethod))
        throw new UsageError(`--method must be ${METHODS.join(' or ')}, got "${flags.method}"`);
      const alpha = Number(flags.alpha);
      if (!(alpha >= 0 && alpha <= 1))
        throw new UsageError(`--alpha must be a number from 0 to 1, got "${flags.alpha}"`);
      if (!(SIZES as readonly string[]).includes(flags.size))
        throw new UsageError(`--size must be ${SIZES.join(' or ')}, got "${flags.size}"`);
      const maxPixels =
        flags.maxPixels === undefined
          ? undefined
          : positiveInteger(flags.maxPixels, '--max-pixels');

      const decoded = await decodeImage(image, maxPixels ? { maxPixels } : {});
      if (!out.quiet) out.err(out.style('dim', `loading ${flags.model}…`));
      await startBackend();
      const classifier: ImageClassifier = await loadClassifier(modelReference(flags.model));
      try {
        const classIndex =
          flags.class === undefined
            ? undefined
            : resolveClass(flags.class, classifier.metadata.labels);
        const explanation = await classifier.explain(decoded, {
          ...(classIndex === undefined ? {} : { classIndex }),
          ...(flags.layer === undefined ? {} : { layer: flags.layer }),
          method: flags.method as CamMethod,
          alpha,
          originalSize: flags.size === 'original',
        });
        const overlay =
          flags.size === 'original' && explanation.original
            ? explanation.original.overlay
            : explanation.overlay;
        await sharp(
          Buffer.from(overlay.data.buffer, overlay.data.byteOffset, overlay.data.length),
          {
            raw: { width: overlay.width, height: overlay.height, channels: 4 },
          },
        )
          .png()
          .toFile(flags.out);
        const { label, index, probability } = explanation.prediction;
        if (flags.json) {
          out.out(
            JSON.stringify({
              input: image,
              class: { label, index, probability },
              layer: explanation.layer,
              method: explanation.method,
              out: flags.out,
              width: overlay.width,
              height: overlay.height,
            }),
          );
        } else {
          out.out(
            `${out.style('bold', label)} (class ${index}, probability ${probability.toFixed(3)}) explained at layer ${explanation.layer}`,
          );
          out.out(`wrote ${flags.out} (${overlay.width}x${overlay.height})`);
        }
      } finally {
        classifier.dispose();
      }
    });
}
