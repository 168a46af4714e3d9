/**
 * The fleet's Debian image and offline apt repository, built once per machine
 * under /var/cache/plumb/ and keyed by a hash of the recipe, so a changed
 * recipe builds a new image while old fleets keep using theirs.
 *
 * Builders on the same machine serialise on a lock; each builds in a temp dir
 * and renames it into place, so a reader only ever sees a finished image.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { withLock } from './lock.js';
import { run } from './run.js';

export const CACHE_DIR = process.env.PLUMB_FLEET_CACHE ?? '/var/cache/plumb';

export interface Image {
  hash: string;
  dir: string;
  rootfs: string;
  /** The offline apt repository, bind-mounted read-only at /srv/repo in every host. */
  repo: string;
}

const SUITE = 'bookworm';
/**
 * In the image: sshd, CA certificates and python3 (only for the Ansible comparison
 * in the benchmark); procps gives postfix's init script and people `ps`/`pkill`.
 * debootstrap's minbase already has what `service` and the SysV scripts need.
 */
const IMAGE_PACKAGES = ['openssh-server', 'ca-certificates', 'python3', 'procps'];
/** Installing these is plumb's job: they live only in the offline repository. */
// python3-apt: Ansible's apt_repository needs it on the host (the fleet oracle's apt_repository cases install it on both twins).
const REPO_PACKAGES = ['postfix', 'libsasl2-modules', 'libsasl2-modules-db', 'sasl2-bin', 'python3-apt'];

const SSHD_CONFIG = `# plumb test fleet: key-only root login, one host key generated per host.
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
# No PAM: pam_loginuid cannot write loginuid inside a namespace host.
UsePAM no
UseDNS no
MaxStartups 200
MaxSessions 50
`;

// postfix asks for the mailer type; preseeded so \`apt-get install -y postfix\` needs no
// terminal. The mail name comes from each host's /etc/mailname.
const DEBCONF = `postfix postfix/main_mailer_type select Internet Site
`;

const APT_SOURCE = 'deb [trusted=yes] file:/srv/repo ./\n';

/** Bump when the build steps below change in a way the constants above do not show. */
const RECIPE_VERSION = 3;

/** The machine's configured Debian mirror for the suite (deb822 or one-line sources). */
export function debianMirror(): string {
  const files: string[] = [];
  if (existsSync('/etc/apt/sources.list')) files.push('/etc/apt/sources.list');
  if (existsSync('/etc/apt/sources.list.d')) for (const f of readdirSync('/etc/apt/sources.list.d').sort()) files.push(join('/etc/apt/sources.list.d', f));
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    if (f.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (k: string) =>
          stanza
            .match(new RegExp(`^${k}:\\s*(.+)$`, 'mi'))?.[1]
            .trim()
            .split(/\s+/) ?? [];
        if (field('Types').includes('deb') && field('Suites').includes(SUITE) && field('URIs')[0]) return field('URIs')[0];
      }
    } else if (f.endsWith('.list')) {
      for (const line of text.split('\n')) {
        const m = line.match(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/);
        if (m && m[2] === SUITE) return m[1];
      }
    }
  }
  return 'http://deb.debian.org/debian';
}

export function recipe() {
  return { RECIPE_VERSION, SUITE, variant: 'minbase', mirror: debianMirror(), IMAGE_PACKAGES, REPO_PACKAGES, SSHD_CONFIG, DEBCONF, APT_SOURCE };
}

export function recipeHash(): string {
  return createHash('sha256').update(JSON.stringify(recipe())).digest('hex').slice(0, 16);
}

function imageAt(hash: string): Image {
  const dir = join(CACHE_DIR, `image-${hash}`);
  return { hash, dir, rootfs: join(dir, 'rootfs'), repo: join(dir, 'repo') };
}

/** The cached image for the current recipe, building it first if needed. */
export async function ensureImage(log: (msg: string) => void = () => {}): Promise<Image> {
  const hash = recipeHash();
  const image = imageAt(hash);
  if (existsSync(join(image.dir, 'recipe.json'))) return image;
  mkdirSync(CACHE_DIR, { recursive: true });
  return withLock(join(CACHE_DIR, 'build.lock'), 'image build', async () => {
    if (existsSync(join(image.dir, 'recipe.json'))) return image; // another builder finished it
    // Holding the lock, any temp dir is a killed builder's leftover.
    for (const f of readdirSync(CACHE_DIR)) if (f.startsWith('tmp-')) await removeBuildDir(join(CACHE_DIR, f));
    const tmp = join(CACHE_DIR, `tmp-${hash}-${process.pid}`);
    mkdirSync(tmp);
    try {
      const started = Date.now();
      log(`building the fleet image ${hash} (debootstrap ${SUITE}, once per machine)…`);
      await build(tmp);
      writeFileSync(join(tmp, 'recipe.json'), JSON.stringify(recipe(), null, 2) + '\n');
      if (existsSync(image.dir)) await removeBuildDir(image.dir); // a half-renamed leftover without recipe.json
      renameSync(tmp, image.dir);
      log(`fleet image ready in ${((Date.now() - started) / 1000).toFixed(1)} s: ${image.dir}`);
      return image;
    } catch (e) {
      await removeBuildDir(tmp);
      throw e;
    }
  });
}

/** rm -rf that first unmounts anything a failed build left mounted inside. */
async function removeBuildDir(dir: string) {
  if (!existsSync(dir)) return;
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && (m === dir || m.startsWith(dir + '/')))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await run(['umount', '-l', m], { allowFail: true });
  rmSync(dir, { recursive: true, force: true });
}

async function build(tmp: string) {
  const rootfs = join(tmp, 'rootfs');
  const repo = join(tmp, 'repo');
  const chroot = (...argv: string[]) => run(['chroot', rootfs, ...argv], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' } });

  await run(['debootstrap', '--variant=minbase', `--include=${IMAGE_PACKAGES.join(',')}`, SUITE, rootfs, debianMirror()], {
    timeoutMs: 20 * 60_000,
  });

  // Fetch the repository's packages with the image's own apt, so "what the image lacks" is exact.
  copyFileSync('/etc/resolv.conf', join(rootfs, 'etc/resolv.conf'));
  await chroot('apt-get', 'update', '-q');
  await chroot('apt-get', 'clean');
  await chroot('apt-get', 'install', '-q', '-y', '--download-only', '--no-install-recommends', ...REPO_PACKAGES);
  mkdirSync(join(rootfs, 'root/dl'));
  // The named packages themselves too, even where already satisfied, so `--reinstall` works offline.
  await run(['chroot', rootfs, 'sh', '-c', `cd /root/dl && apt-get download -q ${REPO_PACKAGES.join(' ')}`], {
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
  });
  mkdirSync(repo);
  for (const dir of [join(rootfs, 'var/cache/apt/archives'), join(rootfs, 'root/dl')])
    for (const f of readdirSync(dir)) if (f.endsWith('.deb')) renameSync(join(dir, f), join(repo, f));
  rmSync(join(rootfs, 'root/dl'), { recursive: true });
  const packages = await run(['dpkg-scanpackages', '--multiversion', '.', '/dev/null'], { cwd: repo });
  writeFileSync(join(repo, 'Packages'), packages.stdout);
  await run(['gzip', '-k9', 'Packages'], { cwd: repo });
  const release = await run(['apt-ftparchive', 'release', '.'], { cwd: repo });
  writeFileSync(join(repo, 'Release'), release.stdout);

  // From here on the image knows only the offline repository.
  rmSync(join(rootfs, 'etc/apt/sources.list'), { force: true });
  for (const f of readdirSync(join(rootfs, 'etc/apt/sources.list.d'))) rmSync(join(rootfs, 'etc/apt/sources.list.d', f));
  writeFileSync(join(rootfs, 'etc/apt/sources.list'), APT_SOURCE);
  rmSync(join(rootfs, 'var/lib/apt/lists'), { recursive: true, force: true });
  mkdirSync(join(rootfs, 'var/lib/apt/lists/partial'), { recursive: true });
  mkdirSync(join(rootfs, 'srv/repo'), { recursive: true });
  await run(['mount', '--bind', '-o', 'ro', repo, join(rootfs, 'srv/repo')]);
  try {
    await chroot('apt-get', 'update', '-q'); // hosts can install without an update first
  } finally {
    await run(['umount', join(rootfs, 'srv/repo')]);
  }
  await chroot('apt-get', 'clean');

  await run(['chroot', rootfs, 'debconf-set-selections'], { input: DEBCONF });
  writeFileSync(join(rootfs, 'etc/ssh/sshd_config.d/plumb-fleet.conf'), SSHD_CONFIG);
  for (const f of readdirSync(join(rootfs, 'etc/ssh'))) if (f.startsWith('ssh_host_')) rmSync(join(rootfs, 'etc/ssh', f));
  // Per-host files are written at `up`; no name resolution beyond /etc/hosts.
  for (const f of ['etc/hostname', 'etc/mailname']) rmSync(join(rootfs, f), { force: true });
  writeFileSync(join(rootfs, 'etc/resolv.conf'), '');
  mkdirSync(join(rootfs, 'run/sshd'), { recursive: true });
  mkdirSync(join(rootfs, 'root/.ssh'), { recursive: true, mode: 0o700 });
}
