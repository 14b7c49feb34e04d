// Host names that are not loopback by name, for tests of what a *remote* server may make
// mcp-auth do: mcp-auth runs in a private mount namespace whose /etc/hosts maps the given
// names (mcp.test, as.test, ...) to 127.0.0.1, so every byte still stays on this machine
// while mcp-auth sees https://mcp.test:<port>, a host it must treat as remote
// (is_loopback_host is false for it). Plus a test PKI whose server certificate names
// those hosts, for https servers that mcp-auth verifies through --ca-file.
//
//   const bed = await namedHosts(['mcp.test', 'as.test']);
//   bed.command(bin, args)  -> [cmd, argv] running `bin args` with that /etc/hosts
//   bed.run(bin, args, opts), bed.spawnRelay(bin, args, opts)
//   bed.pki                 -> { caPem, serverCert, serverKey } (SANs: the names, 127.0.0.1)
//
// How: `unshare -m sh -c 'mount --bind <hosts> /etc/hosts && exec "$0" "$@"' bin args`
// (util-linux unshare makes the new namespace's mounts private, so the machine's own
// /etc/hosts is never touched). Needs root (or CAP_SYS_ADMIN) and unshare. Children of
// mcp-auth (a test browser) inherit the namespace, hence the names; a Node child trusts
// the test CA through NODE_EXTRA_CA_CERTS, which `env()` adds.
//
// namedHosts() throws when the machine cannot do this; `prerequisite()` says why, so a
// test can skip outside CI and fail under CI=true.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { missingCommands, runCommand, spawnRelay, tempDir } from './lib.mjs';

/** Why named hosts cannot work here ("" when they can). */
export async function prerequisite() {
  if (process.platform !== 'linux') return 'named hosts need Linux mount namespaces';
  const missing = missingCommands(['unshare', 'mount', 'openssl']);
  if (missing.length) return `missing commands: ${missing.join(', ')}`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'named hosts need root (unshare -m and mount --bind)';
  const dir = tempDir('named-hosts-probe-');
  const hosts = join(dir, 'hosts');
  writeFileSync(hosts, '127.0.0.1 probe.test\n');
  const r = await runCommand('unshare', ['-m', 'sh', '-c', `mount --bind '${hosts}' /etc/hosts && exec getent hosts probe.test`], { timeoutMs: 10000 });
  if (r.code !== 0 || !/^127\.0\.0\.1\s+probe\.test/m.test(r.stdout)) return `unshare -m with a bound /etc/hosts does not work here (exit ${r.code}): ${r.stderr.trim()}`;
  return '';
}

/** A CA and a server certificate for `names` (and 127.0.0.1), made with the openssl CLI. */
async function makeNamedPki(names) {
  const dir = tempDir('named-hosts-pki-');
  const p = (name) => join(dir, name);
  const san = `subjectAltName=${[...names.map((n) => `DNS:${n}`), 'IP:127.0.0.1'].join(',')}`;
  writeFileSync(p('server.ext'), `${san}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const steps = [
    ['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=mcp-auth named-hosts test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    ['req', ...ec, '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', `/CN=${names[0]}`],
    ['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial',
      '-out', p('server.pem'), '-days', '2', '-extfile', p('server.ext')],
  ];
  for (const args of steps) {
    const r = await runCommand('openssl', args, { timeoutMs: 20000 });
    if (r.code !== 0) throw new Error(`openssl ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
  }
  return { dir, caPem: p('ca.pem'), serverCert: p('server.pem'), serverKey: p('server.key') };
}

/** The test bed for `names` (see the top of this file). Throws when prerequisite() fails. */
export async function namedHosts(names) {
  const why = await prerequisite();
  if (why) throw new Error(why);
  const dir = tempDir('named-hosts-');
  const hostsFile = join(dir, 'hosts');
  writeFileSync(hostsFile, `127.0.0.1 localhost\n::1 localhost\n127.0.0.1 ${names.join(' ')}\n`);
  const pki = await makeNamedPki(names);
  const script = `mount --bind '${hostsFile}' /etc/hosts && exec "$0" "$@"`;
  const command = (bin, args) => ['unshare', ['-m', 'sh', '-c', script, bin, ...args]];
  return {
    names,
    hostsFile,
    pki,
    command,
    /** `env` plus NODE_EXTRA_CA_CERTS (a Node test browser trusts the test CA). */
    env: (env) => ({ ...env, NODE_EXTRA_CA_CERTS: pki.caPem }),
    /** runCommand of `bin args` inside the namespace. */
    run: (bin, args, opts = {}) => {
      const [cmd, argv] = command(bin, args);
      return runCommand(cmd, argv, opts);
    },
    /** spawnRelay of `bin args` inside the namespace (proc.pid is mcp-auth's: every step execs). */
    spawnRelay: (bin, args, opts = {}) => {
      const [cmd, argv] = command(bin, args);
      return spawnRelay(cmd, argv, opts);
    },
  };
}
