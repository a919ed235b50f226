export { type AirbenchOptions, airbench, WHITENING_KERNEL_SIZE, WHITENING_LAYER } from './airbench';
export { type MobileNetV2Options, makeDivisible, mobileNetV2 } from './mobilenet-v2';
export type { CommonOptions } from './options';
export { type ResNet9Options, resNet9 } from './resnet9';
export { seedCnn } from './seed-cnn';
