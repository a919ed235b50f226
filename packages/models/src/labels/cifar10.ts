/** The CIFAR-10 class names in the official order (label byte 0 … 9 of the binary format). */
export const CIFAR10_LABELS = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
] as const;
