export * from './architectures/index';
