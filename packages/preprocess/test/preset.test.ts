import { describe, expect, it } from 'vitest';
import { ImgclsError, PRESETS, validatePreset } from '../src/index';

describe('validatePreset', () => {
  it('accepts every shipped preset', () => {
    for (const preset of Object.values(PRESETS)) expect(validatePreset(preset)).toBe(preset);
  });

  it('rejects a zero std with a typed error naming the field', () => {
    const broken = { ...PRESETS.cifar10, std: [0.2, 0, 0.2] };
    expect(() => validatePreset(broken)).toThrow(/std/);
    try {
      validatePreset(broken);
    } catch (error) {
      expect(ImgclsError.isInstance(error, 'INVALID_ARGUMENT')).toBe(true);
    }
  });

  it('rejects an unknown resize mode and lists the valid ones', () => {
    expect(() => validatePreset({ ...PRESETS.mobilenetV2, resize: 'squash' })).toThrow(
      /stretch, center-crop, letterbox/,
    );
  });
});
