import { CIFAR10_LABELS } from './cifar10';

const range = (first: number, last: number) =>
  Array.from({ length: last - first + 1 }, (_, offset) => first + offset);

/**
 * ImageNet classes (indices into IMAGENET_LABELS) that count as each CIFAR-10 class, for zero-shot
 * evaluation of an ImageNet model on CIFAR-10. Chosen by WordNet hyponymy: every ImageNet bird is a
 * bird (7-24, 80-100, 127-146), every dog breed a dog (151-268), the five domestic cats a cat, the three
 * frogs a frog; vehicles by CIFAR-10's own definitions (automobile: sedans, SUVs and the like; truck: big
 * trucks only; neither includes pickup trucks, so ImageNet's "pickup" maps to nothing).
 *
 * Classes with no or weak counterparts: **deer** has none (ImageNet has antelopes — hartebeest, impala,
 * gazelle — but no deer), so the zero-shot model can never predict it and its recall is 0 by
 * construction; **horse** has only "sorrel" (the other horse classes are carts); airplane has airliner,
 * warplane and wing. Ambiguous classes (submarine, wreck, horse cart, ambulance, passenger car) map to
 * nothing.
 */
export const IMAGENET_TO_CIFAR10: Readonly<
  Record<(typeof CIFAR10_LABELS)[number], readonly number[]>
> = {
  airplane: [404, 895, 908],
  automobile: [436, 468, 511, 609, 627, 656, 661, 751, 817],
  bird: [...range(7, 24), ...range(80, 100), ...range(127, 146)],
  cat: range(281, 285),
  deer: [],
  dog: range(151, 268),
  frog: range(30, 32),
  horse: [339],
  ship: [403, 472, 484, 510, 554, 576, 625, 628, 724, 780, 814, 871, 914],
  truck: [555, 569, 675, 864, 867],
};

/**
 * The mapping as an array over the 1000 ImageNet classes: the CIFAR-10 index of each, or -1. Pass it to
 * `mapProbabilities` from `@imgcls/metrics` (with a background class, drop its probability first).
 */
export function imagenetToCifar10Indices(): number[] {
  const indices = new Array<number>(1000).fill(-1);
  CIFAR10_LABELS.forEach((name, cifarIndex) => {
    for (const imagenetIndex of IMAGENET_TO_CIFAR10[name as keyof typeof IMAGENET_TO_CIFAR10])
      indices[imagenetIndex] = cifarIndex;
  });
  return indices;
}
