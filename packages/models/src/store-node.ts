// `@imgcls/models/store` in Node (the exports map's default): the model store over files, installed
// packages and the download cache folder.
export {
  mirrorModelPackages,
  modelStore,
  type PulledFile,
  type PulledModel,
  type PullOptions,
  pullModel,
} from './store/node';
