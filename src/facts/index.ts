/** Every fact, by name: the data-case runner (test/facts) and the docs look them up here. */
import { aptSources } from './apt-sources.js';
import { archive } from './archive.js';
import { checksum } from './checksum.js';
import { aptCacheAge, aptPolicy, dpkgStatus, dpkgVerify } from './dpkg.js';
import { file } from './file.js';
import { hostFacts } from './host-facts.js';
import { linkSource } from './link-source.js';
import { treeAttrs } from './tree-attrs.js';
import { commandGuards } from './guards.js';
import { packages } from './packages.js';
import { postconfValues } from './postconf.js';
import { services } from './services.js';
import { serviceStatus } from './service.js';
import { stat } from './stat.js';
import type { Fact } from './types.js';

export const facts: Record<string, Fact<any, unknown>> = Object.fromEntries(
  [
    hostFacts,
    file,
    dpkgStatus,
    dpkgVerify,
    aptPolicy,
    aptCacheAge,
    serviceStatus,
    postconfValues,
    commandGuards,
    services,
    packages,
    linkSource,
    treeAttrs,
    stat,
    aptSources,
    archive,
    checksum,
  ].map((f) => [f.name, f]),
);

export * from './types.js';
