/** Every fact, by name: the data-case runner (test/facts) and the docs look them up here. */
import { account, authorizedKeys, groupEntry } from './accounts.js';
import { aptSources } from './apt-sources.js';
import { archive } from './archive.js';
import { checksum } from './checksum.js';
import { aptCacheAge, aptPolicy, dpkgStatus, dpkgVerify } from './dpkg.js';
import { crontab } from './crontab.js';
import { aptSimulate } from './apt-simulate.js';
import { debFile } from './deb-file.js';
import { debconfShow } from './debconf.js';
import { dpkgSelection } from './dpkg-selections.js';
import { pkgMgr } from './pkg-mgr.js';
import { file } from './file.js';
import { hostFacts } from './host-facts.js';
import { linkSource } from './link-source.js';
import { listening } from './listening.js';
import { treeAttrs } from './tree-attrs.js';
import { commandGuards } from './guards.js';
import { packages } from './packages.js';
import { postconfValues } from './postconf.js';
import { services } from './services.js';
import { serviceStatus } from './service.js';
import { stat } from './stat.js';
import { hostnameState, sysctlValue, systemdUnit, timezoneState } from './system.js';
import type { Fact } from './types.js';
import { ufw } from './ufw.js';

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
    account,
    groupEntry,
    authorizedKeys,
    crontab,
    ufw,
    systemdUnit,
    sysctlValue,
    hostnameState,
    timezoneState,
    aptSimulate,
    debFile,
    debconfShow,
    dpkgSelection,
    pkgMgr,
    listening,
    aptSources,
    archive,
    checksum,
  ].map((f) => [f.name, f]),
);

export * from './types.js';
