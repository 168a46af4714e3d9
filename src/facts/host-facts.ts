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

const CPU_KEYS = ['processor', 'vendor_id', 'model name', 'Processor', 'cpu', 'Vendor', 'physical id', 'core id', 'cpu cores', 'siblings', '# processors', 'ncpus active'];

/** Sections in the order they are printed (the parser reads them by name). */
const SECTIONS = [
  'env',
  'nodename',
  'fqdn',
  'uname',
  'os-release',
  'debian_version',
  'meminfo',
  'cpuinfo',
  'nproc',
  'xen',
  'route4',
  'addr4',
  'proc-route',
  'fib-trie',
  'links',
  'service_mgr',
  'pkg_mgr',
  'user',
];

/**
 * The one awk pass: every file a section reads is an argument, every command's output comes in
 * through the environment (`__PLUMB_*`, left out of `env`), and each section is printed once, in
 * order, capped, each content line prefixed with `|`.
 */
const AWK = [
  `function add(sec, text) { if (size[sec] < ${CAP}) { out[sec] = out[sec] "|" text "\\n"; size[sec] += length(text) + 1 } }`,
  'function addLines(sec, text,   parts, k, n) { n = split(text, parts, "\\n"); for (k = 1; k <= n; k++) if (k < n || parts[k] != "") add(sec, parts[k]) }',
  'BEGIN {',
  // ansible_env: the login's environment as the host gives it, PATH before it was widened; multi-line values on one line.
  '  for (k in ENVIRON) { if (k ~ /^__PLUMB_/) continue; v = k == "PATH" ? ENVIRON["__PLUMB_PATH"] : ENVIRON[k]; gsub(/\\n/, "\\001", v); add("env", k "=" v) }',
  '  addLines("nodename", ENVIRON["__PLUMB_N"]); split(ENVIRON["__PLUMB_F"], f, "\\n"); if (f[1] != "") add("fqdn", f[1])',
  '  addLines("route4", ENVIRON["__PLUMB_R"]); addLines("addr4", ENVIRON["__PLUMB_A"]); addLines("service_mgr", ENVIRON["__PLUMB_S"])',
  '  addLines("pkg_mgr", ENVIRON["__PLUMB_P"]); addLines("user", ENVIRON["__PLUMB_U"]); if (ENVIRON["__PLUMB_X"] != "") add("xen", "yes")',
  '}',
  'FNR == 1 { file = FILENAME; iface = file; sub(/^\\/sys\\/class\\/net\\//, "", iface); attr = iface; sub(/^[^\\/]*\\//, "", attr); sub(/\\/.*$/, "", iface) }',
  'file ~ /^\\/proc\\/sys\\/kernel\\// { add("uname", $0); next }',
  'file ~ /os-release$/ { add("os-release", $0); next }',
  'file == "/etc/debian_version" { add("debian_version", $0); next }',
  'file == "/proc/meminfo" { if ($0 ~ /^(MemTotal|MemFree|SwapTotal|SwapFree):/) add("meminfo", $0); next }',
  `file == "/proc/cpuinfo" { if ($0 ~ /^(${CPU_KEYS.join('|')})[ \\t]*:/) add("cpuinfo", $0); next }`,
  // nproc: the CPUs this process may run on (Cpus_allowed_list: 0-3,6).
  'file == "/proc/self/status" { if ($1 == "Cpus_allowed_list:") { n = split($2, r, ","); c = 0; for (k = 1; k <= n; k++) { m = split(r[k], e, "-"); c += m == 2 ? e[2] - e[1] + 1 : 1 } add("nproc", c) } next }',
  'file == "/sys/hypervisor/type" { if (FNR == 1 && $0 == "xen") add("xen", "yes"); next }',
  'file == "/proc/1/comm" { add("service_mgr", "comm " $0); next }',
  'file == "/proc/net/route" { add("proc-route", $0); next }',
  'file == "/proc/net/fib_trie" { add("fib-trie", $0); next }',
  'file ~ /^\\/sys\\/class\\/net\\// { if (!(iface in seen)) { seen[iface] = 1; order[++ifaces] = iface } val[iface, attr] = $0; next }',
  'END {',
  '  add("uname", ENVIRON["__PLUMB_M"])',
  '  split(ENVIRON["__PLUMB_K"], kinds, "\\n"); for (k in kinds) { split(kinds[k], kv, "="); kind[kv[1]] = kv[2] }',
  '  for (k = 1; k <= ifaces; k++) { i = order[k]; t = (i in kind) ? kind[i] : val[i, "type"]; add("links", i " " val[i, "address"] " " val[i, "mtu"] " " t) }',
  `  n = split("${SECTIONS.join(' ')}", names, " "); for (k = 1; k <= n; k++) printf "${MARK} %s\\n%s", names[k], out[names[k]]`,
  '}',
].join('\n');

/**
 * The snippet: a few commands (uname -n/-m, getent, ip, readlink) whose output goes to one awk
 * that also reads every file. Builtins decide what exists; a file awk cannot open is not passed
 * (mawk stops at one).
 */
function hostFactsProbe(): string {
  const readable = (files: string) => `for __pf_file in ${files}; do [ -r "$__pf_file" ] && set -- "$@" "$__pf_file"; done`;
  return [
    '__PLUMB_PATH=$PATH',
    SBIN_PATH,
    "__pf_nl='\n'",
    'set --',
    '__pf_n=$(uname -n 2>/dev/null)',
    // Python's socket.getfqdn(): the host name's first address (getaddrinfo), then that address's names (gethostbyaddr).
    '__pf_a=$(getent ahosts -- "$__pf_n" 2>/dev/null); __pf_a=${__pf_a%%[[:space:]]*}; __pf_f=; [ -n "$__pf_a" ] && __pf_f=$(getent hosts -- "$__pf_a" 2>/dev/null)',
    '__pf_m=$(uname -m 2>/dev/null)',
    readable('/proc/sys/kernel/ostype /proc/sys/kernel/osrelease /proc/sys/kernel/version'),
    'if [ -r /etc/os-release ]; then set -- "$@" /etc/os-release; elif [ -r /usr/lib/os-release ]; then set -- "$@" /usr/lib/os-release; fi',
    readable('/etc/debian_version /proc/meminfo /proc/cpuinfo /proc/self/status /sys/hypervisor/type /proc/1/comm'),
    '__pf_x=; [ -e /proc/xen ] && __pf_x=yes',
    // Without iproute2 (Debian's minbase) the kernel's own tables: Ansible then has no network facts at all.
    '__pf_r=; __pf_ad=; if command -v ip >/dev/null 2>&1; then __pf_r=$(ip -4 route get 8.8.8.8 2>/dev/null); __pf_ad=$(ip -o -4 addr show 2>/dev/null); else ' +
      readable('/proc/net/route /proc/net/fib_trie') +
      '; fi',
    '__pf_k=; for __pf_d in /sys/class/net/*; do [ -d "$__pf_d" ] || continue; [ -d "$__pf_d/bridge" ] && __pf_k="$__pf_k${__pf_d##*/}=bridge$__pf_nl"; [ -d "$__pf_d/bonding" ] && __pf_k="$__pf_k${__pf_d##*/}=bonding$__pf_nl"; ' +
      readable('"$__pf_d/address" "$__pf_d/mtu" "$__pf_d/type"') +
      '; done',
    '__pf_s=; [ -L /sbin/init ] && __pf_s="init $(readlink /sbin/init 2>/dev/null)$__pf_nl"',
    'command -v systemctl >/dev/null 2>&1 && __pf_s="${__pf_s}systemctl$__pf_nl"',
    'for __pf_c in /run/systemd/system/ /dev/.run/systemd/ /dev/.systemd/; do [ -e "$__pf_c" ] && __pf_s="${__pf_s}canary$__pf_nl"; done',
    'command -v initctl >/dev/null 2>&1 && [ -e /etc/init/ ] && __pf_s="${__pf_s}upstart$__pf_nl"',
    '[ -e /sbin/openrc ] && __pf_s="${__pf_s}openrc$__pf_nl"',
    '[ -e /etc/init.d/ ] && __pf_s="${__pf_s}initd$__pf_nl"',
    '__pf_p=; for __pf_b in /usr/bin/apt-get /usr/bin/dnf /usr/bin/yum /usr/bin/zypper /sbin/apk /usr/bin/pacman; do [ -e "$__pf_b" ] && __pf_p="$__pf_p$__pf_b$__pf_nl"; done',
    // The user: the effective uid from /proc/self/status (a builtin read loop), its passwd entry through NSS.
    '__pf_uid=; while read -r __pf_key __pf_v __pf_rest; do [ "$__pf_key" = Uid: ] && { __pf_uid=$__pf_v; break; }; done </proc/self/status',
    '__pf_u=$(getent passwd -- "$__pf_uid" 2>/dev/null); __pf_u="${__pf_u%%:*}$__pf_nl$__pf_u"',
    `__PLUMB_PATH="$__PLUMB_PATH" __PLUMB_N="$__pf_n" __PLUMB_F="$__pf_f" __PLUMB_R="$__pf_r" __PLUMB_A="$__pf_ad" __PLUMB_S="$__pf_s" __PLUMB_P="$__pf_p" __PLUMB_U="$__pf_u" __PLUMB_X="$__pf_x" __PLUMB_K="$__pf_k" __PLUMB_M="$__pf_m" awk '${AWK.replace(/'/g, `'\\''`)}' "$@"`,
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

function distributionFacts(s: Map<string, string[]>): HostFacts {
  const os = osRelease(s.get('os-release') ?? []);
  const id = (os.ID ?? '').toLowerCase();
  const distribution = id === '' ? 'OtherLinux' : id.charAt(0).toUpperCase() + id.slice(1);
  const debianVersion = (s.get('debian_version') ?? [])[0]?.trim();
  // distro's version: os-release's VERSION_ID. Its "best" search for Debian ignores /etc/debian_version
  // (and lsb_release, not on a minimal host, says the same), so Ansible 2.14 says 12, not 12.5.
  const version = os.VERSION_ID ?? '';
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

/** pkg_mgr's binaries, first found wins (also read by the `package` module's own small probe, src/facts/pkg-mgr.ts). */
export const PACKAGE_MANAGERS: Readonly<Record<string, string>> = {
  '/usr/bin/apt-get': 'apt',
  '/usr/bin/dnf': 'dnf',
  '/usr/bin/yum': 'yum',
  '/usr/bin/zypper': 'zypper',
  '/sbin/apk': 'apk',
  '/usr/bin/pacman': 'pacman',
};

export function packageManager(lines: string[]): string {
  return lines.map((l) => PACKAGE_MANAGERS[l]).find(Boolean) ?? 'unknown';
}

/** user_id is Python's getpass.getuser(): the first of LOGNAME, USER, LNAME, USERNAME that is set, else the uid's passwd name. */
function userFacts(lines: string[], env: Record<string, string>): HostFacts {
  const [user = '', passwd = ''] = lines;
  const fields = passwd.split(':');
  const named = ['LOGNAME', 'USER', 'LNAME', 'USERNAME'].map((k) => (Object.hasOwn(env, k) ? env[k] : '')).find((v) => v !== '');
  const facts: HostFacts = { user_id: named ?? user };
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
    const env = envFacts(s.get('env') ?? []);
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
        ...userFacts(s.get('user') ?? [], env),
        env,
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
