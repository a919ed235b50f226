/** True in Node.js (and Electron's main process): the one place the code asks which platform it runs on. */
export const IS_NODE =
  typeof process !== 'undefined' &&
  typeof process.versions === 'object' &&
  typeof process.versions.node === 'string';
