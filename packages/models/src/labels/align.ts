import { ClassMismatchError } from '../errors';
import { CIFAR10_LABELS } from './cifar10';
import { IMAGENET_LABELS } from './imagenet';
import { imagenetToCifar10Indices } from './imagenet-to-cifar10';

/** How a model's output classes were matched to a dataset's classes by {@link alignLabels}. */
export interface LabelAlignment {
  /**
   * For each model output class, the index of the dataset class it counts as, or -1 when it counts as
   * none. Pass it to `mapProbabilities` from `@imgcls/metrics` to get probabilities over the dataset's
   * classes.
   */
  readonly mapping: readonly number[];
  /**
   * `identical`: same labels, same order; `reordered`: same labels, another order; `restricted`: the
   * model knows more classes than the dataset, whose mass is dropped; `imagenet-to-cifar10`: the
   * documented zero-shot mapping (`IMAGENET_TO_CIFAR10`).
   */
  readonly kind: 'identical' | 'reordered' | 'restricted' | 'imagenet-to-cifar10';
  /** Dataset classes no model class maps to: they can never be predicted (CIFAR-10's deer, zero-shot). */
  readonly unreachable: readonly string[];
  /** One sentence for people: what was done. */
  readonly description: string;
}

/**
 * True when the labels are the 1000 ILSVRC-2012 classes in the standard order. Label files differ in a
 * few spellings ("jelly fish" / "jellyfish"), so 99% of the names must agree, not all.
 */
function isImagenet(labels: readonly string[]): boolean {
  return (
    labels.length === 1000 &&
    labels.filter((label, index) => label === IMAGENET_LABELS[index]).length >= 990
  );
}

/**
 * Matches a model's labels to a dataset's class names, so the model can be evaluated on the dataset.
 * Classes match by exact name; a model trained on the 1000 ImageNet classes evaluated on CIFAR-10
 * classes (all or some of them) goes through the documented WordNet mapping `IMAGENET_TO_CIFAR10`
 * (zero-shot). When the model has classes the dataset lacks, predictions are restricted to the
 * dataset's classes.
 *
 * @throws ClassMismatchError naming the dataset classes the model has no label for.
 */
export function alignLabels(
  modelLabels: readonly string[],
  datasetClasses: readonly string[],
): LabelAlignment {
  const cifarNames: readonly string[] = CIFAR10_LABELS;
  const byName = new Map(datasetClasses.map((name, index) => [name, index]));
  const missing = datasetClasses.filter((name) => !modelLabels.includes(name));
  if (
    missing.length > 0 &&
    isImagenet(modelLabels) &&
    datasetClasses.every((name) => cifarNames.includes(name))
  ) {
    const mapping = imagenetToCifar10Indices().map((cifarIndex) =>
      cifarIndex < 0 ? -1 : (byName.get(cifarNames[cifarIndex] as string) ?? -1),
    );
    const unreachable = datasetClasses.filter((_, index) => !mapping.includes(index));
    const mapped = mapping.filter((index) => index >= 0).length;
    return {
      mapping,
      kind: 'imagenet-to-cifar10',
      unreachable,
      description: `zero-shot: ${mapped} of the 1000 ImageNet classes are summed into the dataset's CIFAR-10 classes (IMAGENET_TO_CIFAR10 in @imgcls/models), the other classes' probability is dropped and each row renormalised${unreachable.length > 0 ? `; ${unreachable.join(', ')} ${unreachable.length > 1 ? 'have' : 'has'} no ImageNet counterpart and can never be predicted` : ''}`,
    };
  }
  if (missing.length > 0) throw new ClassMismatchError(missing, modelLabels.length);
  const mapping = modelLabels.map((label) => byName.get(label) ?? -1);
  if (modelLabels.length > datasetClasses.length) {
    return {
      mapping,
      kind: 'restricted',
      unreachable: [],
      description: `the model's ${modelLabels.length - datasetClasses.length} classes that are not in the dataset are dropped and each row renormalised: predictions are restricted to the dataset's ${datasetClasses.length} classes`,
    };
  }
  const identical = mapping.every((target, index) => target === index);
  return {
    mapping,
    kind: identical ? 'identical' : 'reordered',
    unreachable: [],
    description: identical
      ? "the model's labels are the dataset's classes"
      : "the model's labels are the dataset's classes in another order",
  };
}
