/**
 * What validation needs of the modules: their names and strict argument
 * schemas (an unknown argument is an error with a suggestion, not silently
 * ignored). Read from the module list, never edited per module.
 */
export { argSchemas, moduleNames, modules, type ModuleName } from './index.js';
