export * from './index';
export { decodeImage, type NodeImageSource } from './node-decode';
