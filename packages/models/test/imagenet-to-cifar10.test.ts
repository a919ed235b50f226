import { describe, expect, it } from 'vitest';
import {
  CIFAR10_LABELS,
  IMAGENET_LABELS,
  IMAGENET_TO_CIFAR10,
  imagenetToCifar10Indices,
} from '../src/index';

// Words that every ImageNet label mapped to a CIFAR-10 class must contain one of (an independent
// sanity check on the index ranges; dog breeds and birds are checked by their range edges instead).
const KEYWORDS: Partial<Record<string, RegExp>> = {
  airplane: /airliner|warplane|wing/,
  automobile: /wagon|cab|convertible|jeep|limousine|minivan|Model T|racer|sports car/,
  cat: /tabby|tiger cat|Persian|Siamese|Egyptian cat/,
  frog: /frog/,
  horse: /sorrel/,
  ship: /carrier|canoe|catamaran|container ship|fireboat|gondola|lifeboat|liner|pirate|schooner|speedboat|trimaran|yawl/,
  truck: /fire engine|garbage truck|moving van|tow truck|trailer truck/,
};

describe('ImageNet → CIFAR-10 mapping', () => {
  it('maps every index at most once, within range, and leaves deer empty', () => {
    const all = Object.values(IMAGENET_TO_CIFAR10).flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all.every((index) => index >= 0 && index < 1000)).toBe(true);
    expect(IMAGENET_TO_CIFAR10.deer).toEqual([]);
    expect(Object.keys(IMAGENET_TO_CIFAR10)).toEqual([...CIFAR10_LABELS]);
  });

  it('maps labels whose names fit their CIFAR-10 class', () => {
    for (const [cifar, pattern] of Object.entries(KEYWORDS)) {
      for (const index of IMAGENET_TO_CIFAR10[cifar as keyof typeof IMAGENET_TO_CIFAR10]) {
        expect(IMAGENET_LABELS[index], `${cifar} ← ${index}`).toMatch(pattern as RegExp);
      }
    }
    const [firstDog, lastDog] = [
      IMAGENET_TO_CIFAR10.dog[0] as number,
      IMAGENET_TO_CIFAR10.dog.at(-1) as number,
    ];
    expect([
      IMAGENET_LABELS[firstDog],
      IMAGENET_LABELS[lastDog],
      IMAGENET_LABELS[lastDog + 1],
    ]).toEqual(['Chihuahua', 'Mexican hairless', expect.stringMatching(/^timber wolf/)]);
    for (const index of [7, 24, 80, 100, 127, 146])
      expect(IMAGENET_TO_CIFAR10.bird).toContain(index);
    expect(IMAGENET_LABELS[146]).toMatch(/albatross/);
  });

  it('gives an index array for mapProbabilities', () => {
    const indices = imagenetToCifar10Indices();
    expect(indices).toHaveLength(1000);
    expect(indices[285]).toBe(CIFAR10_LABELS.indexOf('cat'));
    expect(indices[717]).toBe(-1); // pickup: neither automobile nor truck in CIFAR-10's definitions
    expect(indices.filter((index) => index === CIFAR10_LABELS.indexOf('deer'))).toEqual([]);
  });
});
