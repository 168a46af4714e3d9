/**
 * One entry per module (or per mode of one) for test/e2e/conformance.test.ts, apart so that
 * test/modules/registry.test.ts can check every registered module has one without running them.
 */
export interface ConformanceCase {
  /** A name for the case; the task's module is its one key beside `name`. */
  module: string;
  task: Record<string, unknown>;
  /** Prints the state the task manages; must differ before and after apply. */
  check: string;
  setup?: string;
  /**
   * A fact module changes nothing itself: a task after it writes what it read, so the plan shows a
   * change made from the facts it set (the play does not gather, so only the module sets them).
   */
  then?: Record<string, unknown>;
  /**
   * Issue 15, control modules. A task that only waits (pause, wait_for) changes nothing: its plan
   * exits 0 and shows "=" (a wait), not "~". `during` is started on the host, in the background,
   * just before apply: what the wait waits for (a file appearing, a port listening); the check
   * then differs because of it, and the next plan shows the wait satisfied.
   */
  waits?: { during?: string; /** apply takes at least this long */ minSeconds?: number };
  /**
   * Issue 15: a task that fails on purpose (fail, a false assert), or a module that cannot work on
   * a fleet host (systemd_service: the fleet has no systemd). The plan already shows the host
   * failing with `message` (exit 1) and changes nothing; apply fails it with the same message
   * before any `then` task runs, so the check is the same before and after.
   */
  fails?: { message: string };
  /** Issue 15: the plan and apply outputs print this (debug, assert). */
  prints?: string;
}

export const conformanceCases: ConformanceCase[] = [
  { module: 'apt', task: { apt: { name: 'sasl2-bin' } }, check: "dpkg-query -W -f='${Status}' sasl2-bin 2>&1 || true" },
  {
    module: 'apt verify',
    setup: 'apt-get install -y -q libsasl2-modules >/dev/null && rm -f /usr/lib/x86_64-linux-gnu/sasl2/libplain.so',
    task: { apt: { name: 'libsasl2-modules', verify: true } },
    check: 'ls /usr/lib/x86_64-linux-gnu/sasl2/ 2>&1',
  },
  // Issue 15, packages: tiny packages from the fleet's offline repository (test/fleet/image.ts).
  { module: 'apt deb', task: { apt: { deb: '/srv/repo/tree_2.1.0-1_amd64.deb' } }, check: "dpkg-query -W -f='${Status} ${Version}' tree 2>&1 || true" },
  {
    module: 'apt autoremove',
    setup: 'apt-get install -y -q jq >/dev/null && apt-mark auto jq >/dev/null',
    task: { apt: { autoremove: true } },
    check: "dpkg-query -W -f='${Package} ${db:Status-Abbrev}\\n' jq libjq1 libonig5 2>&1 || true",
  },
  {
    module: 'apt policy_rc_d',
    task: { apt: { name: 'fortune-mod', install_recommends: false, policy_rc_d: 101 } },
    check: "dpkg-query -W -f='${Package} ${db:Status-Abbrev}\\n' fortune-mod fortunes-min 2>&1; ls /usr/sbin/policy-rc.d 2>&1 || true",
  },
  { module: 'package', task: { package: { name: 'hello', state: 'present' } }, check: "dpkg-query -W -f='${Status}' hello 2>&1 || true" },
  {
    module: 'dpkg_selections',
    setup: 'apt-get install -y -q hello >/dev/null',
    task: { dpkg_selections: { name: 'hello', selection: 'hold' } },
    check: 'dpkg --get-selections hello',
  },
  {
    module: 'debconf',
    task: { debconf: { name: 'plumbtest', question: 'plumbtest/mailname', vtype: 'string', value: 'conformance.example.org' } },
    check: 'debconf-show plumbtest 2>&1',
  },
  {
    module: 'postconf',
    setup: 'apt-get install -y -q postfix >/dev/null',
    task: { postconf: { inet_protocols: 'ipv4', smtp_tls_security_level: 'encrypt' } },
    check: 'postconf -h inet_protocols smtp_tls_security_level',
  },
  {
    module: 'copy',
    task: { copy: { dest: '/etc/plumb-test/copy.conf', content: 'a = 1\nb = 2\n', mode: '0640', owner: 'root' } },
    setup: 'mkdir -p /etc/plumb-test',
    check: 'stat -c "%a %U" /etc/plumb-test/copy.conf 2>&1; cat /etc/plumb-test/copy.conf 2>&1',
  },
  {
    module: 'template',
    task: { template: { src: 'greeting.j2', dest: '/etc/plumb-test/greeting', mode: '0644' } },
    setup: 'mkdir -p /etc/plumb-test',
    check: 'cat /etc/plumb-test/greeting 2>&1',
  },
  { module: 'file', task: { file: { path: '/srv/plumb-dir', state: 'directory', mode: '0750' } }, check: 'stat -c "%F %a" /srv/plumb-dir 2>&1' },
  {
    module: 'lineinfile',
    setup: "mkdir -p /etc/plumb-test && printf 'x=1\\nkey=old\\n' > /etc/plumb-test/line.conf",
    task: { lineinfile: { path: '/etc/plumb-test/line.conf', regexp: '^key=', line: 'key=new' } },
    check: 'cat /etc/plumb-test/line.conf',
  },
  {
    module: 'copy into a directory',
    setup: 'mkdir -p /etc/plumb-test/motd.d',
    task: { copy: { dest: '/etc/plumb-test/motd.d/', src: 'greeting.j2' } },
    check: 'stat -c "%a %n" /etc/plumb-test/motd.d/greeting.j2 2>&1',
  },
  {
    module: 'copy remote_src',
    setup: "mkdir -p /etc/plumb-test && printf 'from the host\\n' > /etc/plumb-test/remote.src",
    task: { copy: { src: '/etc/plumb-test/remote.src', dest: '/etc/plumb-test/remote.copy', remote_src: true, mode: '0640' } },
    check: 'stat -c %a /etc/plumb-test/remote.copy 2>&1; cat /etc/plumb-test/remote.copy 2>&1',
  },
  {
    module: 'file link',
    setup: 'mkdir -p /etc/plumb-test && touch /etc/plumb-test/real.conf',
    task: { file: { path: '/etc/plumb-test/link.conf', src: 'real.conf', state: 'link' } },
    check: 'readlink /etc/plumb-test/link.conf 2>&1 || true',
  },
  {
    module: 'file recurse',
    setup: 'mkdir -p /srv/plumb-tree/sub && touch /srv/plumb-tree/sub/a',
    task: { file: { path: '/srv/plumb-tree', state: 'directory', recurse: true, owner: 'nobody', mode: '0750' } },
    check: 'stat -c "%U %a %n" /srv/plumb-tree /srv/plumb-tree/sub /srv/plumb-tree/sub/a',
  },
  {
    module: 'lineinfile through a symlink',
    setup: "mkdir -p /etc/plumb-test && printf 'port = 25\\n' > /etc/plumb-test/real.ini && ln -sf real.ini /etc/plumb-test/app.ini",
    task: { lineinfile: { path: '/etc/plumb-test/app.ini', regexp: '^port = (\\d+)$', line: 'port = \\1 # managed', backrefs: true } },
    check: 'cat /etc/plumb-test/real.ini; stat -c %F /etc/plumb-test/app.ini',
  },
  {
    module: 'blockinfile',
    setup: "mkdir -p /etc/plumb-test && printf 'x=1\\n' > /etc/plumb-test/block.conf",
    task: { blockinfile: { path: '/etc/plumb-test/block.conf', block: 'relay = mx.example.org\nport = 587', insertbefore: '^x=' } },
    check: 'cat /etc/plumb-test/block.conf',
  },
  {
    module: 'ini_file',
    setup: "mkdir -p /etc/plumb-test && printf '[main]\\n# port = 25\\nhost = a\\n' > /etc/plumb-test/app.ini",
    task: { ini_file: { path: '/etc/plumb-test/app.ini', section: 'main', option: 'port', value: '587' } },
    check: 'cat /etc/plumb-test/app.ini',
  },
  {
    module: 'replace',
    setup: "mkdir -p /etc/plumb-test && printf '#PermitRootLogin yes\\nPort 22\\n' > /etc/plumb-test/sshd.conf",
    task: { replace: { path: '/etc/plumb-test/sshd.conf', regexp: '^#?PermitRootLogin .*$', replace: 'PermitRootLogin no' } },
    check: 'cat /etc/plumb-test/sshd.conf',
  },
  {
    module: 'stat',
    setup: "mkdir -p /etc/plumb-test && printf 'x\\n' > /etc/plumb-test/stat.src && chmod 0640 /etc/plumb-test/stat.src",
    task: { stat: { path: '/etc/plumb-test/stat.src' }, register: 'st' },
    then: { copy: { dest: '/etc/plumb-test/stat.out', content: '{{ st.stat.mode }} {{ st.stat.checksum }}\n' }, when: 'st.stat.exists' },
    check: 'cat /etc/plumb-test/stat.out 2>&1 || true',
  },
  { module: 'command', task: { command: { cmd: 'touch /root/command-ran', creates: '/root/command-ran' } }, check: 'ls /root/command-ran 2>&1' },
  { module: 'shell', task: { shell: { cmd: 'echo hi > /root/shell-ran', creates: '/root/shell-ran' } }, check: 'cat /root/shell-ran 2>&1' },
  {
    module: 'service',
    setup: 'apt-get install -y -q postfix >/dev/null; service postfix stop >/dev/null 2>&1; true',
    task: { service: { name: 'postfix', state: 'started' } },
    check: 'service postfix status >/dev/null 2>&1 && echo running || echo stopped',
  },
  {
    module: 'cron',
    task: { cron: { name: 'plumb nightly', job: '/bin/true', minute: '15', hour: '2', user: 'root' } },
    check: 'crontab -l -u root 2>&1',
  },
  {
    module: 'cron cron_file',
    task: { cron: { name: 'plumb sweep', job: 'find /tmp -mtime +7 -delete', special_time: 'daily', user: 'root', cron_file: 'plumb-sweep' } },
    check: 'stat -c "%a %U" /etc/cron.d/plumb-sweep 2>&1; cat /etc/cron.d/plumb-sweep 2>&1',
  },
  {
    module: 'ufw',
    task: { ufw: { rule: 'allow', to_port: '2222', proto: 'tcp', comment: 'plumb' } },
    check: "grep -h '^### tuple' /etc/ufw/user.rules /etc/ufw/user6.rules 2>&1",
  },
  {
    module: 'service enabled',
    setup: 'apt-get install -y -q postfix >/dev/null; update-rc.d postfix disable >/dev/null 2>&1; true',
    task: { service: { name: 'postfix', enabled: true } },
    check: 'ls /etc/rc2.d/ | grep postfix',
  },
  {
    module: 'sysctl',
    task: { sysctl: { name: 'net.ipv4.ip_forward', value: '1', sysctl_file: '/etc/sysctl.d/90-plumb.conf' } },
    check: 'sysctl -n net.ipv4.ip_forward; cat /etc/sysctl.d/90-plumb.conf 2>&1 || true',
  },
  { module: 'hostname', task: { hostname: { name: 'renamed-by-plumb' } }, check: 'hostname; cat /etc/hostname' },
  { module: 'timezone', task: { timezone: { name: 'Europe/Paris' } }, check: 'cat /etc/timezone; readlink /etc/localtime' },
  {
    module: 'systemd_service',
    task: { systemd_service: { name: 'ssh', state: 'restarted', daemon_reload: true } },
    check: 'ls /run/systemd/system 2>&1 || true',
    fails: { message: 'systemd is not running on this host' },
  },
  {
    module: 'systemd',
    task: { systemd: { daemon_reload: true } },
    check: 'ls /run/systemd/system 2>&1 || true',
    fails: { message: 'systemd is not running on this host' },
  },
  {
    module: 'setup',
    setup: 'mkdir -p /etc/plumb-test',
    task: { setup: { filter: ['ansible_hostname', 'distribution*'] } },
    then: { copy: { dest: '/etc/plumb-test/setup', content: '{{ ansible_hostname }} {{ ansible_distribution }}\n' } },
    check: 'cat /etc/plumb-test/setup 2>&1',
  },
  {
    module: 'service_facts',
    setup: 'mkdir -p /etc/plumb-test',
    task: { service_facts: {} },
    then: { copy: { dest: '/etc/plumb-test/services', content: "{{ 'ssh' in ansible_facts.services }}\n" } },
    check: 'cat /etc/plumb-test/services 2>&1',
  },
  {
    // debug prints in the plan and apply outputs; a task after it writes what it registered.
    module: 'debug',
    setup: 'mkdir -p /etc/plumb-test',
    task: { debug: { msg: 'relay of {{ inventory_hostname }}' }, register: 'said' },
    then: { copy: { dest: '/etc/plumb-test/debug', content: '{{ said.msg }}\n' } },
    check: 'cat /etc/plumb-test/debug 2>&1',
    prints: 'relay of ',
  },
  {
    module: 'assert',
    setup: 'mkdir -p /etc/plumb-test',
    task: { assert: { that: ['inventory_hostname is defined', '2 > 1'], success_msg: 'host is fine' }, register: 'checked' },
    then: { copy: { dest: '/etc/plumb-test/assert', content: '{{ checked.msg }}\n' } },
    check: 'cat /etc/plumb-test/assert 2>&1',
    prints: 'host is fine',
  },
  {
    module: 'assert failing',
    setup: 'mkdir -p /etc/plumb-test',
    task: { assert: { that: ['1 > 2'], fail_msg: 'one is not above two' } },
    then: { copy: { dest: '/etc/plumb-test/assert-failing', content: 'must not be written\n' } },
    check: 'cat /etc/plumb-test/assert-failing 2>&1 || true',
    fails: { message: 'one is not above two' },
  },
  {
    module: 'fail',
    setup: 'mkdir -p /etc/plumb-test',
    task: { fail: { msg: 'refusing {{ inventory_hostname }}' } },
    then: { copy: { dest: '/etc/plumb-test/fail', content: 'must not be written\n' } },
    check: 'cat /etc/plumb-test/fail 2>&1 || true',
    fails: { message: 'refusing ' },
  },
  {
    module: 'pause',
    setup: 'mkdir -p /etc/plumb-test && rm -f /etc/plumb-test/paused',
    task: { pause: { seconds: 2 } },
    then: { copy: { dest: '/etc/plumb-test/paused', content: 'after the pause\n' } },
    check: 'cat /etc/plumb-test/paused 2>&1 || true',
    waits: { minSeconds: 2 },
  },
  {
    module: 'wait_for path',
    setup: 'mkdir -p /etc/plumb-test && rm -f /etc/plumb-test/ready',
    task: { wait_for: { path: '/etc/plumb-test/ready', timeout: 30 } },
    check: 'cat /etc/plumb-test/ready 2>&1 || true',
    waits: { during: 'sleep 2; echo up > /etc/plumb-test/ready' },
  },
  {
    // A listener started on the host during apply (perl is essential in Debian); plumb reads /proc/net/tcp, it connects nowhere.
    module: 'wait_for port',
    task: { wait_for: { port: 8765, timeout: 30 } },
    check: 'awk \'$4 == "0A" && $2 ~ /:223D$/ { print "listening" }\' /proc/net/tcp',
    waits: {
      during:
        "sleep 2; exec perl -MIO::Socket::INET -e 'my $s = IO::Socket::INET->new(LocalAddr => q(127.0.0.1), LocalPort => 8765, Listen => 5, ReuseAddr => 1) or die; sleep 120'",
    },
  },
  {
    module: 'package_facts',
    setup: 'mkdir -p /etc/plumb-test',
    task: { package_facts: { manager: 'auto' } },
    then: { copy: { dest: '/etc/plumb-test/packages', content: "{{ ansible_facts.packages['openssh-server'][0].version }}\n" } },
    check: 'cat /etc/plumb-test/packages 2>&1',
  },
  // Issue 15: accounts.
  {
    module: 'group',
    task: { group: { name: 'plumbgrp', gid: 2345 } },
    check: 'getent group plumbgrp || true',
  },
  {
    module: 'user',
    task: { user: { name: 'plumbuser', uid: 2345, shell: '/bin/bash', groups: ['adm'], comment: 'Plumb Test' } },
    check: 'getent passwd plumbuser || true; id plumbuser 2>&1; stat -c "%a %U" /home/plumbuser 2>&1',
  },
  {
    module: 'authorized_key',
    setup: 'id plumbkeys >/dev/null 2>&1 || useradd -m plumbkeys',
    task: { authorized_key: { user: 'plumbkeys', key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPlumbConformanceKeyxxxxxxxxxxxxxxxxxxxxxx plumb@test' } },
    check: 'stat -c "%a %U" /home/plumbkeys/.ssh /home/plumbkeys/.ssh/authorized_keys 2>&1; cat /home/plumbkeys/.ssh/authorized_keys 2>&1',
  },
  // Issue 15: apt repositories, downloads and archives (@HTTP@ is a file server on the fleet's bridge).
  {
    module: 'apt_repository',
    setup: 'mkdir -p /srv/plumb-repo && : > /srv/plumb-repo/Packages',
    task: { apt_repository: { repo: 'deb [trusted=yes] file:/srv/plumb-repo ./', filename: 'plumb-local', mode: '0640' } },
    check: 'stat -c "%a %n" /etc/apt/sources.list.d/plumb-local.list 2>&1; cat /etc/apt/sources.list.d/plumb-local.list 2>&1 || true',
  },
  {
    module: 'deb822_repository',
    setup: 'mkdir -p /srv/plumb-repo && : > /srv/plumb-repo/Packages',
    task: { deb822_repository: { name: 'Plumb Local', uris: 'file:/srv/plumb-repo', suites: './', trusted: true, enabled: false } },
    check: 'cat /etc/apt/sources.list.d/plumb-local.sources 2>&1 || true',
  },
  {
    module: 'get_url',
    setup: 'mkdir -p /srv/plumb-get',
    task: {
      get_url: { url: '@HTTP@/hello.txt', dest: '/srv/plumb-get/', mode: '0640', checksum: 'sha256:32af1bff6e2490bd1d5e7788d36cdf33b6af8dd4016830c9f441d23cd21dd116' },
    },
    check: 'stat -c "%a %n" /srv/plumb-get/hello.txt 2>&1; cat /srv/plumb-get/hello.txt 2>&1 || true',
  },
  {
    module: 'unarchive',
    setup: 'mkdir -p /srv/plumb-unarchive',
    task: { unarchive: { src: 'app.tar.gz', dest: '/srv/plumb-unarchive', mode: 'u=rwX,g=rX,o=' } },
    check: 'cd /srv/plumb-unarchive && find . -printf "%M %p\\n" | sort',
  },
  {
    module: 'unarchive remote_src',
    setup: 'mkdir -p /srv/plumb-tree-src/etc /srv/plumb-untar && echo a=1 > /srv/plumb-tree-src/etc/a.conf && tar -cf /tmp/plumb-tree.tar -C /srv/plumb-tree-src etc',
    task: { unarchive: { src: '/tmp/plumb-tree.tar', dest: '/srv/plumb-untar', remote_src: true, owner: 'nobody' } },
    check: 'cd /srv/plumb-untar && find . -printf "%u %p\\n" | sort',
  },
];
