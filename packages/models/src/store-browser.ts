// `@imgcls/models/store` in browsers and workers (the exports map's `browser` condition): the same
// interface over URLs and Cache Storage.
export { modelStore } from './store/browser';
