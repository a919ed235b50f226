// Entry of the page the library end-to-end tests bundle: the classifier's browser build, nothing of the app.
import { loadClassifier, modelSettings } from '@imgcls/classifier';
import { BROWSER_CACHE_NAME } from '@imgcls/models';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

setWasmPaths('/tfjs-wasm/');
Object.assign(globalThis, { imgcls: { loadClassifier, modelSettings, BROWSER_CACHE_NAME } });
