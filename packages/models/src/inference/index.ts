export { type CompiledModel, compileLayersModel } from './compile';
