/** Every fact, by name: the data-case runner (test/facts) and the docs look them up here. */
import { aptCacheAge, aptPolicy, dpkgStatus, dpkgVerify } from './dpkg.js';
import { file } from './file.js';
import { hostFacts } from './host-facts.js';
import { linkSource } from './link-source.js';
import { treeAttrs } from './tree-attrs.js';
import { commandGuards } from './guards.js';
import { postconfValues } from './postconf.js';
import { serviceStatus } from './service.js';
import type { Fact } from './types.js';

export const facts: Record<string, Fact<any, unknown>> = Object.fromEntries(
  [hostFacts, file, dpkgStatus, dpkgVerify, aptPolicy, aptCacheAge, serviceStatus, postconfValues, commandGuards, linkSource, treeAttrs].map((f) => [f.name, f]),
);

export * from './types.js';
