/**
 * Host facts under Ansible's names (hostname, fqdn, distribution, default_ipv4,
 * memtotal_mb, …), read with POSIX sh and the files Ansible's own collectors
 * read, so a playbook that says `ansible_fqdn` gets the value Ansible would.
 * The rules follow ansible-core 2.14's setup module (platform, distribution,
 * hardware/linux, network/linux, service_mgr, pkg_mgr, user, env collectors);
 * where plumb differs it says so in the comment.
 *
 * Everything printed is host data and untrusted: each source is its own
 * section, and every content line is prefixed with `|`, so no value (a
 * hostname with a newline, a hostile os-release) can forge a section marker.
 */
import { type Fact, SBIN_PATH } from './types.js';

/** Fact subsets as Ansible names them in `gather_subset`. */
export type FactSubset = 'min' | 'hardware' | 'network';

export type HostFacts = Record<string, unknown>;

const MARK = '::plumb-fact';
/** Every source is capped: a host cannot flood the controller through its facts. */
const CAP = 65536;

function section(name: string, command: string): string {
  return `echo '${MARK} ${name}'; { ${command}; } 2>/dev/null | head -c ${CAP} | sed 's/^/|/'; echo`;
}

const CPU_KEYS = ['processor', 'vendor_id', 'model name', 'Processor', 'cpu', 'Vendor', 'physical id', 'core id', 'cpu cores', 'siblings', '# processors', 'ncpus active'];

/** The snippet: one section per source. `env -0` keeps multi-line values apart (newline → \x01, NUL → newline). */
function hostFactsProbe(): string {
  return [
    // First, before PATH is widened: ansible_env is the login's environment as the host gives it.
    section('env', `env -0 | tr '\\n\\000' '\\001\\n'`),
    SBIN_PATH,
    section('nodename', 'uname -n'),
    // Python's socket.getfqdn(): the host name's first address (getaddrinfo), then that address's names (gethostbyaddr).
    section('fqdn', `n=$(uname -n); a=$(getent ahosts -- "$n" | awk 'NR==1{print $1}'); [ -n "$a" ] && getent hosts -- "$a" | head -n 1`),
    section('uname', 'uname -s; uname -r; uname -v; uname -m'),
    section('os-release', 'cat /etc/os-release || cat /usr/lib/os-release'),
    section('debian_version', 'cat /etc/debian_version'),
    section('meminfo', `grep -E '^(MemTotal|MemFree|SwapTotal|SwapFree):' /proc/meminfo`),
    section('cpuinfo', `grep -E '^(${CPU_KEYS.join('|')})[[:space:]]*:' /proc/cpuinfo`),
    section('nproc', 'nproc'),
    section('xen', `{ [ -e /proc/xen ] || [ "$(head -n 1 /sys/hypervisor/type)" = xen ]; } && echo yes`),
    section('route4', 'command -v ip >/dev/null && ip -4 route get 8.8.8.8'),
    section('addr4', 'command -v ip >/dev/null && ip -o -4 addr show'),
    // Without iproute2 (Debian's minbase) the kernel's own tables: Ansible then has no network facts at all.
    section('proc-route', 'command -v ip >/dev/null || cat /proc/net/route'),
    section('fib-trie', 'command -v ip >/dev/null || cat /proc/net/fib_trie'),
    section(
      'links',
      'for d in /sys/class/net/*; do [ -d "$d" ] || continue; t=$(cat "$d/type"); [ -d "$d/bridge" ] && t=bridge; [ -d "$d/bonding" ] && t=bonding; echo "${d##*/} $(cat "$d/address") $(cat "$d/mtu") $t"; done',
    ),
    section(
      'service_mgr',
      [
        'echo "comm $(cat /proc/1/comm)"',
        '[ -L /sbin/init ] && echo "init $(readlink /sbin/init)"',
        'command -v systemctl >/dev/null && echo systemctl',
        'for c in /run/systemd/system/ /dev/.run/systemd/ /dev/.systemd/; do [ -e "$c" ] && echo "canary"; done',
        'command -v initctl >/dev/null && [ -e /etc/init/ ] && echo upstart',
        '[ -e /sbin/openrc ] && echo openrc',
        '[ -e /etc/init.d/ ] && echo initd',
        'true',
      ].join('; '),
    ),
    section('pkg_mgr', 'for p in /usr/bin/apt-get /usr/bin/dnf /usr/bin/yum /usr/bin/zypper /sbin/apk /usr/bin/pacman; do [ -e "$p" ] && echo "$p"; done; true'),
    section('user', 'id -un; getent passwd -- "$(id -u)"'),
  ].join('\n');
}

/** The snippet's sections: name → lines (the `|` prefix removed). */
function sections(stdout: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith(`${MARK} `)) out.set(line.slice(MARK.length + 1), (current = []));
    else if (line.startsWith('|') && current) current.push(line.slice(1));
  }
  return out;
}

/** `KEY=value` lines of os-release, quotes removed as the shell would for simple values. */
function osRelease(lines: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2];
    if (/^".*"$/.test(v)) v = v.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
    else if (/^'.*'$/.test(v)) v = v.slice(1, -1);
    out[m[1]] = v;
  }
  return out;
}

/** Ansible's OS_FAMILY_MAP, the Debian part (plumb targets Debian; other names are their own family). */
const DEBIAN_FAMILY = [
  'Debian',
  'Ubuntu',
  'Raspbian',
  'Neon',
  'KDE neon',
  'Linux Mint',
  'SteamOS',
  'Devuan',
  'Kali',
  'Cumulus Linux',
  'Pop!_OS',
  'Parrot',
  'Pardus GNU/Linux',
  'Uos',
  'Deepin',
  'OSMC',
];

/** distro's "best" version: the most precise of os-release's VERSION_ID and /etc/debian_version (which has the point release). */
function bestVersion(versionId: string | undefined, debianVersion: string | undefined): string {
  const candidates = [versionId, debianVersion].filter((v): v is string => v !== undefined && /^\d+(\.\d+)*$/.test(v));
  return candidates.reduce((best, v) => (v.split('.').length > best.split('.').length ? v : best), candidates[0] ?? '');
}

function distributionFacts(s: Map<string, string[]>): HostFacts {
  const os = osRelease(s.get('os-release') ?? []);
  const id = (os.ID ?? '').toLowerCase();
  const distribution = id === '' ? 'OtherLinux' : id.charAt(0).toUpperCase() + id.slice(1);
  const debianVersion = (s.get('debian_version') ?? [])[0]?.trim();
  const version = id === 'debian' ? bestVersion(os.VERSION_ID, debianVersion) : (os.VERSION_ID ?? '');
  // Ansible reads the codename from PRETTY_NAME's parentheses for Debian, else os-release's VERSION_CODENAME.
  const pretty = /^[^(]+ \(?([^)]+?)\)/.exec(os.PRETTY_NAME ?? '');
  const release = id === 'debian' && pretty ? pretty[1] : (os.VERSION_CODENAME ?? os.UBUNTU_CODENAME ?? 'NA');
  const facts: HostFacts = {
    distribution,
    distribution_version: version || 'NA',
    distribution_major_version: (version || 'NA').split('.')[0] || 'NA',
    distribution_release: release,
    distribution_file_variety: DEBIAN_FAMILY.includes(distribution) ? 'Debian' : distribution,
    os_family: DEBIAN_FAMILY.includes(distribution) ? 'Debian' : distribution,
  };
  const minor = /(\d+)\.(\d+)/.exec(debianVersion ?? '');
  if (id === 'debian' && minor) facts.distribution_minor_version = minor[2];
  return facts;
}

function platformFacts(s: Map<string, string[]>): HostFacts {
  const [system = '', kernel = '', kernelVersion = '', machine = ''] = s.get('uname') ?? [];
  const nodename = (s.get('nodename') ?? []).join('\n');
  // getfqdn: the first of the canonical name and its aliases that has a dot, else the canonical name; the host name when nothing resolves.
  const names = ((s.get('fqdn') ?? [])[0] ?? '').trim().split(/\s+/).slice(1);
  const fqdn = names.find((n) => n.includes('.')) ?? names[0] ?? nodename;
  return {
    system,
    kernel,
    kernel_version: kernelVersion,
    machine,
    architecture: machine,
    nodename,
    hostname: nodename.split('.')[0],
    fqdn,
    domain: fqdn.split('.').slice(1).join('.'),
  };
}

function memoryFacts(s: Map<string, string[]>): HostFacts {
  const facts: HostFacts = {};
  for (const line of s.get('meminfo') ?? []) {
    const m = /^(MemTotal|MemFree|SwapTotal|SwapFree):\s*(\d+)/.exec(line);
    if (m) facts[`${m[1].toLowerCase()}_mb`] = Math.floor(Number(m[2]) / 1024);
  }
  return facts;
}

/** hardware/linux.py's count: sockets from `physical id`, cores from `cpu cores`, threads from `siblings`. */
function cpuFacts(s: Map<string, string[]>, architecture: string): HostFacts {
  const processor: string[] = [];
  const sockets = new Map<string, number>();
  const cores = new Map<string, number>();
  let physid = '0';
  let coreid = '0';
  let count = 0;
  let vendors = 0;
  let models = 0;
  let processors = 0;
  let declaredCores: number | undefined;
  for (const line of s.get('cpuinfo') ?? []) {
    const at = line.indexOf(':');
    const key = (at < 0 ? line : line.slice(0, at)).trim();
    const val = at < 0 ? '' : line.slice(at + 1).trim();
    if (['model name', 'Processor', 'vendor_id', 'cpu', 'Vendor', 'processor'].includes(key)) {
      processor.push(val);
      if (key === 'vendor_id') vendors++;
      if (key === 'model name') models++;
      if (key === 'processor') processors++;
      count++;
    } else if (key === 'physical id') {
      physid = val;
      if (!sockets.has(physid)) sockets.set(physid, 1);
    } else if (key === 'core id') {
      coreid = val;
      if (!sockets.has(coreid)) cores.set(coreid, 1);
    } else if (key === 'cpu cores') sockets.set(physid, Number(val));
    else if (key === 'siblings') cores.set(coreid, Number(val));
    else if (key === '# processors') declaredCores = Number(val);
    else if (key === 'ncpus active') count = Number(val);
  }
  if (processor.length === 0) return {};
  if (vendors > 0 && vendors === models) count = vendors;
  if (/^(armv|aarch|ppc)/.test(architecture)) count = processors;
  const nproc = Number((s.get('nproc') ?? [])[0]);
  const facts: HostFacts = { processor, processor_nproc: Number.isInteger(nproc) && nproc > 0 ? nproc : processors };
  if (s.get('xen')?.[0] === 'yes') return { ...facts, processor_count: count, processor_cores: count, processor_threads_per_core: 1, processor_vcpus: count };
  const processorCount = sockets.size > 0 ? sockets.size : count;
  const firstSocket = [...sockets.values()][0];
  const processorCores = firstSocket ? firstSocket : (declaredCores ?? 1);
  const firstCore = [...cores.values()][0];
  const threads = firstCore !== undefined ? Math.floor(firstCore / processorCores) : Math.floor(1 / processorCores);
  return {
    ...facts,
    processor_count: processorCount,
    processor_cores: processorCores,
    processor_threads_per_core: threads,
    processor_vcpus: threads * processorCount * processorCores,
  };
}

const INTERFACE_TYPE: Record<string, string> = { '1': 'ether', '32': 'infiniband', '512': 'ppp', '772': 'loopback', '65534': 'tunnel' };

interface Link {
  macaddress?: string;
  mtu?: number;
  type: string;
}

function links(s: Map<string, string[]>): Map<string, Link> {
  const out = new Map<string, Link>();
  for (const line of s.get('links') ?? []) {
    const [name, mac, mtu, type] = line.split(' ');
    if (!name) continue;
    out.set(name, {
      macaddress: mac && mac !== '00:00:00:00:00:00' ? mac : undefined,
      mtu: /^\d+$/.test(mtu ?? '') ? Number(mtu) : undefined,
      type: type === 'bridge' || type === 'bonding' ? type : (INTERFACE_TYPE[type ?? ''] ?? 'unknown'),
    });
  }
  return out;
}

const ipv4 = (text: string) => /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(text) && text.split('.').every((o) => Number(o) <= 255);
const toInt = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const toIp = (n: number) => [24, 16, 8, 0].map((b) => Math.floor(n / 2 ** b) % 256).join('.');
const maskOf = (prefix: number) => (prefix === 0 ? 0 : (0xffffffff - (2 ** (32 - prefix) - 1)) >>> 0);

interface Address {
  device: string;
  address: string;
  prefix: number;
  broadcast: string;
  alias: string;
}

/** `ip -o -4 addr show` lines: `2: eth0    inet 10.0.0.2/24 brd 10.0.0.255 scope global eth0\       valid_lft …`. */
function ipAddresses(lines: string[]): Address[] {
  const out: Address[] = [];
  for (const line of lines) {
    const words = line.split('\\')[0].trim().split(/\s+/);
    const at = words.indexOf('inet');
    if (at < 0 || !words[at + 1]) continue;
    const [address, prefix = '32'] = words[at + 1].split('/');
    if (!ipv4(address)) continue;
    const brd = words.indexOf('brd');
    out.push({ device: words[1].replace(/:$/, ''), address, prefix: Number(prefix), broadcast: brd > 0 ? (words[brd + 1] ?? '') : '', alias: words.at(-1)! });
  }
  return out;
}

/** `/proc/net/route` is little-endian hex: `eth0 00000000 0100000A 0003 …`. */
const hexIp = (hex: string) => toIp(Number.parseInt(hex.match(/../g)!.reverse().join(''), 16));

/** Without iproute2: the default route from /proc/net/route, addresses from the LOCAL /32 entries of /proc/net/fib_trie. */
function procNetwork(s: Map<string, string[]>): { route: { interface?: string; gateway?: string }; addresses: Address[] } {
  const routes = (s.get('proc-route') ?? [])
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((w) => w.length >= 8 && /^[0-9A-F]{8}$/i.test(w[1]) && /^[0-9A-F]{8}$/i.test(w[2]) && /^[0-9A-F]{8}$/i.test(w[7]));
  const def = routes.find((w) => w[1] === '00000000' && w[7] === '00000000');
  const locals = new Set<string>();
  const trie = s.get('fib-trie') ?? [];
  trie.forEach((line, i) => {
    const m = /\|--\s+(\d+\.\d+\.\d+\.\d+)$/.exec(line);
    if (m && /\/32 host LOCAL/.test(trie[i + 1] ?? '')) locals.add(m[1]);
  });
  const addresses: Address[] = [];
  for (const address of locals) {
    // The link route of the address's subnet names its device and prefix.
    const link = routes.find((w) => w[2] === '00000000' && w[7] !== '00000000' && (toInt(address) & toInt(hexIp(w[7]))) >>> 0 === toInt(hexIp(w[1])));
    if (address.startsWith('127.')) addresses.push({ device: 'lo', address, prefix: 8, broadcast: '', alias: 'lo' });
    else if (link) {
      const prefix = toInt(hexIp(link[7])).toString(2).replace(/0+$/, '').length;
      const broadcast = toIp((toInt(address) | (~maskOf(prefix) >>> 0)) >>> 0);
      addresses.push({ device: link[0], address, prefix, broadcast, alias: link[0] });
    }
  }
  return { route: def ? { interface: def[0], gateway: hexIp(def[2]) } : {}, addresses };
}

function networkFacts(s: Map<string, string[]>): HostFacts {
  const devices = links(s);
  const words = ((s.get('route4') ?? [])[0] ?? '').trim().split(/\s+/);
  let route: { interface?: string; address?: string; gateway?: string } = {};
  let addresses: Address[];
  if (s.get('route4')?.length || s.get('addr4')?.length) {
    // Ansible: the first line must start with the address asked for; then dev, src and via (unless via is that address).
    if (words[0] === '8.8.8.8') {
      for (let i = 0; i < words.length - 1; i++) {
        if (words[i] === 'dev') route.interface = words[i + 1];
        else if (words[i] === 'src') route.address = words[i + 1];
        else if (words[i] === 'via' && words[i + 1] !== '8.8.8.8') route.gateway = words[i + 1];
      }
    }
    addresses = ipAddresses(s.get('addr4') ?? []);
  } else {
    const proc = procNetwork(s);
    addresses = proc.addresses;
    route = { ...proc.route };
    if (route.interface) route.address = addresses.find((a) => a.device === route.interface)?.address;
  }
  const defaultIpv4: Record<string, unknown> = { ...route };
  const primary = addresses.find((a) => a.address === route.address);
  if (primary) {
    const mask = maskOf(primary.prefix);
    const link = devices.get(primary.device);
    Object.assign(defaultIpv4, {
      broadcast: primary.broadcast,
      netmask: toIp(mask),
      network: toIp((toInt(primary.address) & mask) >>> 0),
      prefix: String(primary.prefix),
      macaddress: link?.macaddress,
      mtu: link?.mtu,
      type: link?.type ?? 'unknown',
      alias: primary.alias,
    });
    for (const k of Object.keys(defaultIpv4)) if (defaultIpv4[k] === undefined) delete defaultIpv4[k];
  }
  return {
    default_ipv4: defaultIpv4,
    all_ipv4_addresses: addresses.filter((a) => !a.address.startsWith('127.')).map((a) => a.address),
    interfaces: [...devices.keys()],
  };
}

/** service_mgr.py for Linux: PID 1's name unless it is `init` or a shell, then systemd's canaries, upstart, openrc, /etc/init.d. */
function serviceManager(lines: string[]): string {
  const comm = lines
    .find((l) => l.startsWith('comm '))
    ?.slice(5)
    .trim();
  const init = lines
    .find((l) => l.startsWith('init '))
    ?.slice(5)
    .trim();
  let proc1 = comm || init;
  if (proc1) proc1 = proc1.split('/').at(-1)!;
  if (proc1 && (proc1 === 'init' || proc1.endsWith('sh'))) proc1 = undefined;
  const map: Record<string, string> = { procd: 'openwrt_init', 'runit-init': 'runit', svscan: 'svc', 'openrc-init': 'openrc' };
  if (proc1) return map[proc1] ?? proc1;
  const has = (w: string) => lines.includes(w);
  if (has('systemctl') && has('canary')) return 'systemd';
  if (has('upstart')) return 'upstart';
  if (has('openrc')) return 'openrc';
  if (has('systemctl') && init?.split('/').at(-1) === 'systemd') return 'systemd';
  if (has('initd')) return 'sysvinit';
  return 'service';
}

function packageManager(lines: string[]): string {
  const names: Record<string, string> = {
    '/usr/bin/apt-get': 'apt',
    '/usr/bin/dnf': 'dnf',
    '/usr/bin/yum': 'yum',
    '/usr/bin/zypper': 'zypper',
    '/sbin/apk': 'apk',
    '/usr/bin/pacman': 'pacman',
  };
  return lines.map((l) => names[l]).find(Boolean) ?? 'unknown';
}

function userFacts(lines: string[]): HostFacts {
  const [user = '', passwd = ''] = lines;
  const fields = passwd.split(':');
  const facts: HostFacts = { user_id: user };
  if (fields.length >= 7) Object.assign(facts, { user_uid: Number(fields[2]), user_gid: Number(fields[3]), user_gecos: fields[4], user_dir: fields[5], user_shell: fields[6] });
  return facts;
}

function envFacts(lines: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of lines) {
    const at = line.indexOf('=');
    if (at <= 0) continue;
    Object.defineProperty(env, line.slice(0, at), { value: line.slice(at + 1).replace(/\x01/g, '\n'), enumerable: true, writable: true, configurable: true });
  }
  return env;
}

/** Which subset each fact (without the `ansible_` prefix) belongs to. */
export function subsetOf(name: string): FactSubset {
  if (/^(memtotal|memfree|swaptotal|swapfree)_mb$|^processor/.test(name)) return 'hardware';
  if (/^(default_ipv4|all_ipv4_addresses|interfaces)$/.test(name)) return 'network';
  return 'min';
}

/** Ansible's `gather_subset`: `all` by default; `!x` removes; `min` always unless `!min`. */
export function subsetsOf(gatherSubset: string[] | undefined): Set<string> {
  const include = new Set<string>();
  const exclude = new Set<string>();
  for (const s of gatherSubset ?? ['all']) (s.startsWith('!') ? exclude : include).add(s.replace(/^!/, ''));
  if (include.size === 0 && !exclude.has('all')) include.add('all');
  const out = new Set(include.has('all') && !exclude.has('all') ? ['min', 'hardware', 'network'] : [...include].filter((s) => s !== 'all'));
  if (!exclude.has('min')) out.add('min');
  for (const e of exclude) out.delete(e);
  return out;
}

/** The facts of `subsets` only, as Ansible leaves out what a subset does not collect. */
export function factsInSubsets(facts: HostFacts, subsets: ReadonlySet<string>): HostFacts {
  return Object.fromEntries(Object.entries(facts).filter(([name]) => subsets.has(subsetOf(name))));
}

export const hostFacts: Fact<Record<string, never>, HostFacts> = {
  name: 'host-facts',
  summary: "Ansible's host facts (hostname, fqdn, distribution, default_ipv4, memory, CPUs, service and package manager, user, environment)",
  probe: hostFactsProbe,
  parse(_params, { stdout }) {
    const s = sections(stdout);
    if (!s.has('uname') || !s.has('env')) return { known: false, reason: `unexpected probe output for host facts: ${JSON.stringify(stdout.slice(0, 80))}` };
    const platform = platformFacts(s);
    return {
      known: true,
      state: {
        ...platform,
        ...distributionFacts(s),
        ...memoryFacts(s),
        ...cpuFacts(s, String(platform.architecture)),
        ...networkFacts(s),
        service_mgr: serviceManager(s.get('service_mgr') ?? []),
        pkg_mgr: packageManager(s.get('pkg_mgr') ?? []),
        ...userFacts(s.get('user') ?? []),
        env: envFacts(s.get('env') ?? []),
      },
    };
  },
};

/**
 * Plausible stand-ins: the same Debian-ish system in both variants (a Debian fleet's
 * `when: ansible_os_family == 'Debian'` keeps its probe in the first round trip), every
 * host-specific value different (so a probe built from one is seen to depend on it).
 */
export function standInFacts(variant: number): HostFacts {
  const v = (s: string) => `plumb-standin${variant}-${s}`;
  const n = (a: number) => a * (variant + 1);
  const address = `10.${variant + 1}.0.2`;
  return {
    system: 'Linux',
    kernel: v('kernel'),
    kernel_version: v('kernel-version'),
    machine: 'x86_64',
    architecture: 'x86_64',
    nodename: v('host'),
    hostname: v('host'),
    fqdn: `${v('host')}.${v('domain')}`,
    domain: v('domain'),
    distribution: 'Debian',
    distribution_version: '12.0',
    distribution_major_version: '12',
    distribution_minor_version: '0',
    distribution_release: 'bookworm',
    distribution_file_variety: 'Debian',
    os_family: 'Debian',
    memtotal_mb: n(1024),
    memfree_mb: n(512),
    swaptotal_mb: n(0),
    swapfree_mb: n(0),
    processor: [v('cpu')],
    processor_nproc: n(1),
    processor_count: 1,
    processor_cores: n(1),
    processor_threads_per_core: 1,
    processor_vcpus: n(1),
    default_ipv4: {
      address,
      interface: v('if'),
      gateway: `10.${variant + 1}.0.1`,
      netmask: '255.255.255.0',
      network: `10.${variant + 1}.0.0`,
      prefix: '24',
      broadcast: `10.${variant + 1}.0.255`,
      type: 'ether',
      alias: v('if'),
      mtu: 1500,
      macaddress: v('mac'),
    },
    all_ipv4_addresses: [address],
    interfaces: ['lo', v('if')],
    service_mgr: 'systemd',
    pkg_mgr: 'apt',
    user_id: v('user'),
    user_uid: n(1000),
    user_gid: n(1000),
    user_gecos: v('user'),
    user_dir: `/${v('home')}`,
    user_shell: '/bin/sh',
    env: { HOME: `/${v('home')}`, PATH: '/usr/local/bin:/usr/bin:/bin', USER: v('user'), LOGNAME: v('user'), SHELL: '/bin/sh', PWD: `/${v('home')}`, LANG: 'C.UTF-8' },
    services: {},
    packages: {},
  };
}
