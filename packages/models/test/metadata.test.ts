import { ImgclsError, PRESETS } from '@imgcls/preprocess';
import { describe, expect, it } from 'vitest';
import {
  CIFAR10_LABELS,
  checkLabelCount,
  IMAGENET_LABELS,
  parseModelMetadata,
  registeredModels,
  registerModel,
  resolveModel,
} from '../src/index';

const valid = {
  schemaVersion: 1,
  id: 'cifar10-resnet9',
  name: 'ResNet-9 CIFAR-10',
  version: '1.0.0',
  format: 'layers-model',
  labels: CIFAR10_LABELS,
  output: 'probabilities',
  preset: PRESETS.cifar10,
};

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return ImgclsError.isInstance(error) ? error.code : 'untyped';
  }
  return undefined;
}

describe('metadata', () => {
  it('accepts valid metadata and rejects each broken field with a typed error', () => {
    expect(parseModelMetadata(valid).labels).toHaveLength(10);
    expect(parseModelMetadata({ ...valid, metrics: { accuracy: 0.9 } }).metrics).toEqual({
      accuracy: 0.9,
    });
    expect(
      parseModelMetadata({ ...valid, testTimeAugmentation: 'flip-translate' }).testTimeAugmentation,
    ).toBe('flip-translate');
    for (const broken of [
      null,
      [],
      { ...valid, schemaVersion: 2 },
      { ...valid, id: '' },
      { ...valid, format: 'onnx' },
      { ...valid, output: 'scores' },
      { ...valid, labels: [] },
      { ...valid, labels: [1, 2] },
      { ...valid, preset: { ...PRESETS.cifar10, height: 0 } },
      { ...valid, weightsSha256: 'abc' },
      { ...valid, backgroundClass: 'yes' },
      { ...valid, metrics: { accuracy: '90%' } },
      { ...valid, metrics: [0.9] },
      { ...valid, testTimeAugmentation: 'rotate' },
    ]) {
      expect(codeOf(() => parseModelMetadata(broken))).toBe('INVALID_METADATA');
    }
  });

  it('checks label counts, allowing a declared background class', () => {
    expect(codeOf(() => checkLabelCount(10, valid))).toBeUndefined();
    expect(codeOf(() => checkLabelCount(11, valid))).toBe('LABEL_MISMATCH');
    expect(
      codeOf(() => checkLabelCount(1001, { labels: IMAGENET_LABELS, backgroundClass: true })),
    ).toBeUndefined();
    expect(codeOf(() => checkLabelCount(1001, { labels: IMAGENET_LABELS }))).toBe('LABEL_MISMATCH');
  });
});

describe('labels and registry', () => {
  it('has the 1000 ImageNet classes in index order', () => {
    expect(IMAGENET_LABELS).toHaveLength(1000);
    expect(IMAGENET_LABELS[0]).toMatch(/^tench/);
    expect(IMAGENET_LABELS[652]).toBe('military uniform');
    expect(IMAGENET_LABELS[999]).toMatch(/toilet tissue/);
    // ImageNet itself has two classes named crane: the bird (134) and the machine (517).
    const repeated = IMAGENET_LABELS.filter(
      (label, index) => IMAGENET_LABELS.indexOf(label) !== index,
    );
    expect(repeated).toEqual(['crane']);
  });

  it('resolves built-in ids and lists the valid ones for an unknown id', () => {
    expect(resolveModel('mobilenet-v2').metadata?.backgroundClass).toBe(true);
    expect(registeredModels().map((entry) => entry.id)).toEqual(
      expect.arrayContaining(['mobilenet-v2', 'cifar10', 'cifar10-seedcnn']),
    );
    try {
      resolveModel('resnet-1000');
      expect.unreachable();
    } catch (error) {
      expect(ImgclsError.isInstance(error, 'UNKNOWN_MODEL')).toBe(true);
      expect((error as Error).message).toContain('mobilenet-v2');
    }
  });

  it('resolves an entry a user registers, after the built-in ones', () => {
    registerModel({
      id: 'acme-flowers',
      description: 'A company model served from its own host.',
      source: { kind: 'url', url: 'https://models.example.com/flowers/model.json' },
    });
    expect(resolveModel('acme-flowers').source).toEqual({
      kind: 'url',
      url: 'https://models.example.com/flowers/model.json',
    });
    expect(registeredModels().map((entry) => entry.id)).toEqual([
      'mobilenet-v2',
      'cifar10',
      'cifar10-airbench',
      'cifar10-resnet9',
      'cifar10-resnet9-float16',
      'cifar10-seedcnn',
      'cifar10-seedcnn-uint8',
      'acme-flowers',
    ]);
  });
});
