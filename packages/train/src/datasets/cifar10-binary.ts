import { DatasetFormatError } from '../errors';

/** Side of a CIFAR-10 image in pixels. */
export const CIFAR_SIZE = 32;
/** Bytes of one record in the official binary format: 1 label byte + 3072 pixel bytes (CHW). */
export const CIFAR_RECORD_BYTES = 1 + 3 * CIFAR_SIZE * CIFAR_SIZE;

/** Images of a CIFAR-10 batch as 8-bit RGB in HWC order, with their labels. */
export interface CifarBatch {
  /** `count` images of 32x32x3 bytes, row-major, channels last. */
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

/**
 * Parses one file of the official CIFAR-10 binary format (`data_batch_1.bin` … `test_batch.bin`):
 * records of one label byte and 3072 pixel bytes in channel-major order (1024 red, 1024 green, 1024 blue),
 * converted to the channels-last layout TF.js uses.
 *
 * @throws DatasetFormatError when the size is not a whole number of records or a label is above 9.
 */
export function parseCifarBinary(bytes: Uint8Array, fileName = 'CIFAR-10 batch'): CifarBatch {
  if (bytes.length === 0 || bytes.length % CIFAR_RECORD_BYTES !== 0) {
    throw new DatasetFormatError(
      `${fileName} has ${bytes.length} bytes, not a whole number of ${CIFAR_RECORD_BYTES}-byte CIFAR-10 records: it is truncated or not a CIFAR-10 binary batch.`,
    );
  }
  const count = bytes.length / CIFAR_RECORD_BYTES;
  const plane = CIFAR_SIZE * CIFAR_SIZE;
  const images = new Uint8Array(count * plane * 3);
  const labels = new Uint8Array(count);
  for (let record = 0; record < count; record++) {
    const offset = record * CIFAR_RECORD_BYTES;
    const label = bytes[offset] as number;
    if (label > 9)
      throw new DatasetFormatError(
        `${fileName}: record ${record} has label ${label}; CIFAR-10 labels are 0-9.`,
      );
    labels[record] = label;
    const out = record * plane * 3;
    for (let pixel = 0; pixel < plane; pixel++) {
      images[out + pixel * 3] = bytes[offset + 1 + pixel] as number;
      images[out + pixel * 3 + 1] = bytes[offset + 1 + plane + pixel] as number;
      images[out + pixel * 3 + 2] = bytes[offset + 1 + 2 * plane + pixel] as number;
    }
  }
  return { images, labels, count };
}
