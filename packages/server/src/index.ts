// A placeholder until the HTTP layer lands: the engine's public API only.
export * from './engine/index';
