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
}

export const conformanceCases: ConformanceCase[] = [
  { module: 'apt', task: { apt: { name: 'sasl2-bin' } }, check: "dpkg-query -W -f='${Status}' sasl2-bin 2>&1 || true" },
  {
    module: 'apt verify',
    setup: 'apt-get install -y -q libsasl2-modules >/dev/null && rm -f /usr/lib/x86_64-linux-gnu/sasl2/libplain.so',
    task: { apt: { name: 'libsasl2-modules', verify: true } },
    check: 'ls /usr/lib/x86_64-linux-gnu/sasl2/ 2>&1',
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
    module: 'package_facts',
    setup: 'mkdir -p /etc/plumb-test',
    task: { package_facts: { manager: 'auto' } },
    then: { copy: { dest: '/etc/plumb-test/packages', content: "{{ ansible_facts.packages['openssh-server'][0].version }}\n" } },
    check: 'cat /etc/plumb-test/packages 2>&1',
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
