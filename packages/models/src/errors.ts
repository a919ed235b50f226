import { ImgclsError } from '@imgcls/preprocess/errors';

/** A model's `metadata.json` is missing a field or has one of the wrong kind. */
export class InvalidMetadataError extends ImgclsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_METADATA', message, options);
  }
}

/** The number of labels does not match the model's output units. */
export class LabelMismatchError extends ImgclsError {
  constructor(
    readonly labelCount: number,
    readonly outputUnits: number,
  ) {
    super(
      'LABEL_MISMATCH',
      `The model has ${outputUnits} outputs but its metadata lists ${labelCount} labels: fix metadata.json (labels, or backgroundClass: true for a 1001-output ImageNet model).`,
    );
  }
}

/** A model could not be loaded: missing files, wrong format, unreadable weights. */
export class ModelLoadError extends ImgclsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MODEL_LOAD_FAILED', message, options);
  }
}

/** No registered model has the requested id. */
export class UnknownModelError extends ImgclsError {
  constructor(
    readonly id: string,
    readonly known: readonly string[],
    /** What the caller may have meant, e.g. a folder of that name. */
    hint?: string,
  ) {
    super(
      'UNKNOWN_MODEL',
      `No model is registered as "${id}". Registered models: ${known.join(', ')}.${hint ? ` ${hint}` : ''}`,
    );
  }
}

/** A dataset's classes cannot be matched to a model's labels, by name or through a known mapping. */
export class ClassMismatchError extends ImgclsError {
  constructor(
    readonly missing: readonly string[],
    readonly modelLabels: number,
  ) {
    super(
      'CLASS_MISMATCH',
      `The model (${modelLabels} labels) has no label for the dataset class${missing.length > 1 ? 'es' : ''} ${missing.map((name) => `"${name}"`).join(', ')}: evaluate it on data whose class folders are named like its labels (metadata.json "labels").`,
    );
  }
}

/** Weights cannot be quantised: already quantised, a value the target type cannot hold, or bytes that do not match the manifest. */
export class QuantizationError extends ImgclsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('QUANTIZATION_FAILED', message, options);
  }
}

/** A registry id was found in none of the places the model store looks, in the order it looks. */
export class ModelNotFoundError extends ImgclsError {
  constructor(
    readonly id: string,
    /** Each place looked at, and why it did not serve the model. */
    readonly tried: readonly string[],
    hint: string,
  ) {
    super('MODEL_NOT_FOUND', `No copy of "${id}" could be used: ${tried.join('; ')}. ${hint}`);
  }
}

/** The installed model package is not the version this release of @imgcls/models is pinned to. */
export class ModelPackageVersionError extends ImgclsError {
  constructor(
    readonly packageName: string,
    readonly installed: string,
    readonly expected: string,
  ) {
    super(
      'MODEL_PACKAGE_VERSION',
      `${packageName}@${installed} is installed, but this @imgcls/models is pinned to ${expected}: run \`npm install ${packageName}@${expected}\` (or upgrade @imgcls/models to the release that pins ${installed}).`,
    );
  }
}
