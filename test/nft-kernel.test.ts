// The nftables driver and its long-lived `nft -i` session against the real nft and kernel, in a network namespace
// of the test's own (created and removed here): transactions commit whole or not at all, small deltas go through
// the session and large ones through `nft -f`, interactive nft leaves nothing on disk, and the read-back of the table
// asks the kernel for no set element.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { compileNetworkPolicy } from '../core/policy/index.js';
import { blamedRules, NftDriver, NftError, parseExisting } from '../dataplane-agent/nft/driver.js';
import { declaredChainShape, declaredShape } from '../dataplane-agent/nft/object-shapes.js';
import { PREFILL_MIN_ELEMENTS } from '../dataplane-agent/nft/render.js';
import { NftSession, SESSION_LINE_MAX_BYTES } from '../dataplane-agent/nft/session.js';
import { emptyChanges, emptyState, type NftState } from '../dataplane-agent/nft/state.js';
import { startNftTransaction } from '../dataplane-agent/nft/transaction-file.js';
import { adaptPolicy } from '../dataplane-agent/policy/adapt.js';
import { ingressMap, PolicyCalculation, peersDecl, peersSet } from '../dataplane-agent/policy/calc.js';

const ns = `fm-nft-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'fedmesh-nft-kernel-'));
/** nft inside the test's namespace: what the driver and the session run. */
const nft = join(dir, 'nft');

before(() => {
  const r = spawnSync('ip', ['netns', 'add', ns]);
  assert.equal(r.status, 0, `ip netns add: ${r.stderr}`);
  writeFileSync(nft, `#!/bin/sh\nexec ip netns exec ${ns} nft "$@"\n`);
  chmodSync(nft, 0o755);
});
after(() => {
  spawnSync('ip', ['netns', 'delete', ns]);
  rmSync(dir, { recursive: true, force: true });
});

function nftIn(...args: string[]): string {
  const r = spawnSync(nft, args, { maxBuffer: 256 * 1024 * 1024 });
  assert.equal(r.status, 0, `nft ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.toString();
}

/** The elements of a set in the kernel, as nft prints them (`10.0.0.1 . 0x00000001`). */
function elementsOf(set: string): string[] {
  const doc = JSON.parse(nftIn('-j', 'list', 'set', 'inet', 'fedmesh', set)) as {
    nftables: { set?: { elem?: ({ concat: (string | number)[] } | string)[] } }[];
  };
  const elem = doc.nftables.find((e) => e.set)?.set?.elem ?? [];
  const text = (part: string | number) => (typeof part === 'number' ? `0x${part.toString(16).padStart(8, '0')}` : part);
  return elem.map((e) => (typeof e === 'string' ? e : e.concat.map(text).join(' . '))).sort();
}

test('a session transaction commits whole, a refused one applies nothing, and the process stays', async () => {
  nftIn('add', 'table', 'inet', 'fm-session');
  const s = new NftSession({ nft });
  try {
    await s.run(['add set inet fm-session s { type ipv4_addr; }', 'add element inet fm-session s { 10.0.0.1 }']);
    const pid = s.pid;
    await assert.rejects(
      s.run(['add element inet fm-session s { 10.0.0.2 }', 'add element inet fm-session nope { 10.0.0.3 }']),
      /nft refused the transaction: Error: No such file or directory/,
    );
    await s.run(['add element inet fm-session s { 10.0.0.4 }']);
    assert.equal(s.pid, pid);
    const listed = nftIn('list', 'set', 'inet', 'fm-session', 's');
    assert.match(listed, /10\.0\.0\.1/);
    assert.match(listed, /10\.0\.0\.4/);
    assert.doesNotMatch(listed, /10\.0\.0\.2/, 'the refused transaction left its first command out too');
  } finally {
    await s.close();
    nftIn('delete', 'table', 'inet', 'fm-session');
  }
});

test('interactive nft writes no history file, whatever HOME says', async () => {
  const home = mkdtempSync(join(dir, 'home-'));
  const saved = process.env.HOME;
  process.env.HOME = home;
  const s = new NftSession({ nft });
  try {
    await s.run(['add table inet fm-history']);
    await s.run(['delete table inet fm-history']);
  } finally {
    await s.close(); // nft writes its history when it exits
    process.env.HOME = saved;
  }
  assert.deepEqual(readdirSync(home), []);
  assert.equal(existsSync(join(home, '.nft.history')), false);
});

function stateWith(elements: Iterable<string>): NftState {
  const state = emptyState();
  state.sets.set('peers', { declaration: 'type ipv4_addr . mark;', elements: new Set(elements) });
  return state;
}

const el = (i: number, tag: number) =>
  `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} . 0x${tag.toString(16).padStart(8, '0')}`;

test('the driver sends small deltas through the session and large ones through nft -f; the kernel matches', async () => {
  const driver = new NftDriver(nft);
  try {
    const initial = Array.from({ length: 1000 }, (_, i) => el(i, 1));
    const full = await driver.fullSync(() => stateWith(initial));
    assert.equal(full.via, 'file');
    assert.deepEqual(elementsOf('peers'), [...initial].sort());

    // One endpoint relabelled: its element moves from one tag to another.
    const small = emptyChanges();
    small.sets.set('peers', { added: new Set([el(5, 2)]), removed: new Set([el(5, 1)]) });
    const afterSmall = initial.filter((e) => e !== el(5, 1)).concat(el(5, 2));
    const s1 = await driver.apply(stateWith(afterSmall), small);
    assert.equal(s1.via, 'session');
    assert.deepEqual(elementsOf('peers'), [...afterSmall].sort());

    // Thousands of endpoints at once: more than the session takes.
    const added = Array.from({ length: 2000 }, (_, i) => el(5000 + i, 3));
    const big = emptyChanges();
    big.sets.set('peers', { added: new Set(added), removed: new Set() });
    const s2 = await driver.apply(stateWith([...afterSmall, ...added]), big);
    assert.equal(s2.via, 'file');
    assert.ok(added.join(', ').length > SESSION_LINE_MAX_BYTES);
    assert.deepEqual(elementsOf('peers'), [...afterSmall, ...added].sort());

    // A delta the kernel refuses (an element that is not there): nothing applied, the driver asks for a full sync.
    const bad = emptyChanges();
    bad.sets.set('peers', { added: new Set([el(9, 4)]), removed: new Set([el(7777, 9)]) });
    await assert.rejects(driver.apply(stateWith([]), bad), /nft refused the transaction/);
    assert.equal(driver.inSync, false);
    assert.equal(elementsOf('peers').includes(el(9, 4)), false);
  } finally {
    await driver.close();
  }
});

test('a full sync remakes objects of our names and the wrong shape: forward without its hook, a set of another type', async () => {
  spawnSync(nft, ['delete', 'table', 'inet', 'fedmesh']);
  // What another version, or a hand, could have left: forward as a regular chain (it would see no packet), peers
  // keyed by another type, both referenced (a rule on the set, a verdict map jumping to a chain).
  const left = spawnSync(nft, ['-f', '-'], {
    input: [
      'add table inet fedmesh',
      'add set inet fedmesh peers { type ipv4_addr . inet_service; }',
      'add element inet fedmesh peers { 10.9.9.9 . 80 }',
      'add map inet fedmesh ingress-eps { type ipv4_addr : verdict; }',
      'add chain inet fedmesh prof-x',
      'add rule inet fedmesh prof-x ip saddr . tcp dport @peers return',
      'add element inet fedmesh ingress-eps { 10.9.9.8 : jump prof-x }',
      'add chain inet fedmesh forward',
      'add rule inet fedmesh forward ip daddr vmap @ingress-eps',
      '',
    ].join('\n'),
  });
  assert.equal(left.status, 0, left.stderr.toString());
  const desired = stateWith([el(1, 1), el(2, 1)]);
  desired.maps.set(ingressMap, {
    declaration: 'type ipv4_addr : verdict;',
    elements: new Map([['10.9.9.8', 'jump prof-x']]),
  });
  desired.chains.set('prof-x', { rules: ['ip saddr . (meta mark & 0x00000000 | 0x00000001) @peers return', 'drop'] });
  desired.chains.set('forward', {
    hook: 'type filter hook forward priority filter; policy accept;',
    rules: [`ip daddr vmap @${ingressMap}`],
  });
  const driver = new NftDriver(nft);
  try {
    await driver.fullSync(() => desired);
  } finally {
    await driver.close();
  }
  const doc = JSON.parse(nftIn('-t', '-j', 'list', 'table', 'inet', 'fedmesh')) as {
    nftables: { chain?: { name: string; hook?: string }; set?: { name: string; type: unknown } }[];
  };
  assert.equal(doc.nftables.find((e) => e.chain?.name === 'forward')?.chain?.hook, 'forward');
  assert.deepEqual(doc.nftables.find((e) => e.set?.name === 'peers')?.set?.type, ['ipv4_addr', 'mark']);
  assert.deepEqual(elementsOf('peers'), [el(1, 1), el(2, 1)]);
  assert.match(nftIn('list', 'chain', 'inet', 'fedmesh', 'prof-x'), /@peers return/);
});

/** A calculation of node n0 of cluster west with one pod, app=server at 10.245.0.2 (and these IPv6 addresses). */
function calculationWithServer(ipv6: string[]): PolicyCalculation {
  const calc = new PolicyCalculation('west', 'n0');
  calc.setNodeCIDRs(['10.245.0.0/24']);
  calc.setNamespace('demo', {});
  calc.upsertEndpoint({
    cluster: 'west',
    namespace: 'demo',
    name: 'server',
    nodeName: 'n0',
    ips: ['10.245.0.2'],
    ...(ipv6.length > 0 ? { ipv6 } : {}),
    labels: { app: 'server' },
    ports: [],
  });
  return calc;
}

test('a rule nft refuses fails the full sync; its policy then goes in as a drop, and the rest of the ruleset with it', async () => {
  spawnSync(nft, ['delete', 'table', 'inet', 'fedmesh']);
  const policy = (name: string, ingress: object[]) =>
    adaptPolicy(
      compileNetworkPolicy(
        { metadata: { namespace: 'demo', name }, spec: { podSelector: { matchLabels: { app: 'server' } }, ingress } },
        { localCluster: 'west' },
      ).policy!,
      'west',
    );
  const good = policy('a-web', [{ ports: [{ port: 80 }] }]);
  const compiled = policy('b-ping', [{}]);
  // An ICMP type under TCP: adapt.ts leaves it out of compiled policies, so it is built here by hand.
  const bad = {
    ...compiled,
    ingress: compiled.ingress.map((r) => ({ ...r, protocol: 6, icmp: { type: 8, code: null } })),
  };
  const calc = calculationWithServer([]);
  calc.upsertPolicy(good);
  calc.upsertPolicy(bad);
  const driver = new NftDriver(nft);
  const sync = () =>
    driver.fullSync(() => {
      calc.trackChanges(true);
      return calc.desired;
    });
  try {
    const err = await sync().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof NftError, `a refused full sync: ${String(err)}`);
    assert.equal(err.refused.length, 1, err.stderr);
    const [r] = err.refused;
    assert.match(r!.reason, /conflicting protocols/);
    assert.equal(spawnSync(nft, ['list', 'table', 'inet', 'fedmesh']).status, 1, 'nothing of it committed');
    assert.equal(calc.refuseRule(r!.chain, r!.index, r!.rule, r!.reason), bad.key);

    await sync();
    const profile = calc.desired.maps.get(ingressMap)!.elements.get('10.245.0.2')!.slice('jump '.length);
    assert.equal(profile, r!.chain);
    const listed = nftIn('list', 'chain', 'inet', 'fedmesh', profile);
    assert.match(listed, /dport 80 return\n\s+drop\n\s+drop\n/, `a-web's rule, b-ping's drop, the end:\n${listed}`);
    assert.doesNotMatch(listed, /icmp/);
  } finally {
    await driver.close();
    spawnSync(nft, ['delete', 'table', 'inet', 'fedmesh']);
  }
});

test('IPv6 packets to a pod a policy isolates are dropped (policy is decided for IPv4), and pass once none does', async () => {
  spawnSync(nft, ['delete', 'table', 'inet', 'fedmesh']);
  // The test's namespace routes between a client and a server namespace, over IPv6 only.
  const client = `${ns}-c`;
  const server = `${ns}-s`;
  const ip = (...args: string[]) => {
    const r = spawnSync('ip', args);
    assert.equal(r.status, 0, `ip ${args.join(' ')}: ${r.stderr}`);
  };
  try {
    for (const [peer, dev, net] of [
      [client, 'fmc', '1'],
      [server, 'fms', '2'],
    ] as const) {
      ip('netns', 'add', peer);
      ip('-n', ns, 'link', 'add', `${dev}0`, 'type', 'veth', 'peer', 'name', `${dev}1`, 'netns', peer);
      // No duplicate address detection: until it ends, link-local addresses are tentative and neighbours unresolved.
      for (const [where, link] of [
        [ns, `${dev}0`],
        [peer, `${dev}1`],
      ] as const) {
        const r = spawnSync('ip', ['netns', 'exec', where, 'sysctl', '-qw', `net.ipv6.conf.${link}.accept_dad=0`]);
        assert.equal(r.status, 0, r.stderr.toString());
      }
      ip('-n', ns, 'addr', 'add', `fd00:${net}::1/64`, 'dev', `${dev}0`, 'nodad');
      ip('-n', peer, 'addr', 'add', `fd00:${net}::2/64`, 'dev', `${dev}1`, 'nodad');
      ip('-n', ns, 'link', 'set', `${dev}0`, 'up');
      ip('-n', peer, 'link', 'set', `${dev}1`, 'up');
      ip('-n', peer, '-6', 'route', 'add', 'default', 'via', `fd00:${net}::1`);
    }
    assert.equal(spawnSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']).status, 0);
    const pings = () =>
      spawnSync('ip', ['netns', 'exec', client, 'ping', '-6', '-c', '1', '-W', '1', 'fd00:2::2']).status === 0;
    assert.ok(pings(), 'the route works before any rule');

    const calc = calculationWithServer(['fd00:2::2']);
    const isolate = adaptPolicy(
      compileNetworkPolicy(
        {
          metadata: { namespace: 'demo', name: 'web' },
          spec: { podSelector: { matchLabels: { app: 'server' } }, ingress: [{ ports: [{ port: 80 }] }] },
        },
        { localCluster: 'west' },
      ).policy!,
      'west',
    );
    calc.upsertPolicy(isolate);
    const driver = new NftDriver(nft);
    try {
      await driver.fullSync(() => {
        calc.trackChanges(true);
        return calc.desired;
      });
      assert.ok(!pings(), 'isolated for ingress: IPv6 dropped');
      calc.deletePolicy(isolate.key);
      await driver.apply(calc.desired, calc.takeChanges());
      assert.ok(pings(), 'no policy any more: IPv6 passes');
    } finally {
      await driver.close();
    }
  } finally {
    spawnSync('ip', ['netns', 'delete', client]);
    spawnSync('ip', ['netns', 'delete', server]);
  }
});

/** The chains of table inet fedmesh in the kernel, and the sets. */
function tableObjects(): { chains: string[]; sets: string[] } {
  const doc = JSON.parse(nftIn('-t', '-j', 'list', 'table', 'inet', 'fedmesh')) as {
    nftables: { chain?: { name: string }; set?: { name: string } }[];
  };
  return {
    chains: doc.nftables.flatMap((e) => (e.chain ? [e.chain.name] : [])),
    sets: doc.nftables.flatMap((e) => (e.set ? [e.set.name] : [])),
  };
}

/** A ruleset with a large peers set (`elements`), a profile that uses it and forward jumping to the profile. */
function largeRuleset(elements: readonly string[]): NftState {
  const state = stateWith(elements);
  state.chains.set('prof-x', { rules: ['ip saddr . (meta mark & 0x00000000 | 0x00000001) @peers return', 'drop'] });
  state.chains.set('forward', {
    hook: 'type filter hook forward priority filter; policy accept;',
    rules: ['ip daddr 10.245.0.2 jump prof-x'],
  });
  return state;
}

const large = Array.from({ length: 2.5 * PREFILL_MIN_ELEMENTS }, (_, i) => el(i, 1));

test('a full sync into an empty table loads a large set in chunks ahead, and ends with exactly the desired state', async () => {
  spawnSync(nft, ['delete', 'table', 'inet', 'fedmesh']);
  const driver = new NftDriver(nft);
  try {
    const stats = await driver.fullSync(() => largeRuleset(large));
    assert.equal(stats.prefillChunks, 3);
    assert.deepEqual(elementsOf('peers'), [...large].sort());
    assert.match(nftIn('list', 'chain', 'inet', 'fedmesh', 'prof-x'), /@peers return\n\s+drop\n/);
    assert.match(
      nftIn('list', 'chain', 'inet', 'fedmesh', 'forward'),
      /hook forward .*\n\s+ip daddr 10\.245\.0\.2 jump prof-x/,
    );
  } finally {
    await driver.close();
  }
  // A restart over the table: the set exists, so it is flushed and refilled in the one transaction, as always.
  const moved = [...large.slice(1000), el(99_999, 2)];
  const again = new NftDriver(nft);
  try {
    const stats = await again.fullSync(() => largeRuleset(moved));
    assert.equal(stats.prefillChunks, 0);
    assert.deepEqual(elementsOf('peers'), [...moved].sort());
  } finally {
    await again.close();
    spawnSync(nft, ['delete', 'table', 'inet', 'fedmesh']);
  }
});

test('a chunk nft refuses fails the full sync before any rule uses the set; the next full sync programs the exact state', async () => {
  spawnSync(nft, ['delete', 'table', 'inet', 'fedmesh']);
  // One element of the second chunk nft refuses (a mark above 32 bits).
  const bad = large.map((e, i) => (i === large.length / 2 ? e.replace(/0x[0-9a-f]+$/, '0x1ffffffff') : e));
  const driver = new NftDriver(nft);
  try {
    const err = await driver
      .fullSync(() => largeRuleset(bad))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof NftError, String(err));
    assert.match(
      err.message,
      /^loading set peers ahead of the full sync, chunk 2 of 3: nft -f refused the transaction/,
    );
    assert.deepEqual(blamedRules(err, true), []);
    // The first chunk went in; nothing refers to it.
    assert.deepEqual(tableObjects(), { chains: [], sets: ['peers'] });
    const partial = elementsOf('peers').length;
    assert.ok(partial > 0 && partial < large.length, `partly loaded: ${partial}`);

    // The next full sync finds the set and flushes it in its one transaction: what the first chunk left is gone.
    const wanted = [...large.slice(20_000), el(99_999, 2)];
    const stats = await driver.fullSync(() => largeRuleset(wanted));
    assert.equal(stats.prefillChunks, 0);
    assert.deepEqual(elementsOf('peers'), [...wanted].sort());
    assert.deepEqual(tableObjects().chains.sort(), ['forward', 'prof-x']);
  } finally {
    await driver.close();
    spawnSync(nft, ['delete', 'table', 'inet', 'fedmesh']);
  }
});

test('a large set made after the read-back is not filled ahead: the full sync fails, and the next one empties it', async () => {
  spawnSync(nft, ['delete', 'table', 'inet', 'fedmesh']);
  // nft whose listing is followed by someone making peers with an element of their own (a late transaction).
  const late = join(dir, 'nft-late');
  writeFileSync(
    late,
    `#!/bin/sh
if [ "$1" = -t ]; then
  ip netns exec ${ns} nft "$@"; rc=$?
  printf 'add table inet fedmesh\\nadd set inet fedmesh peers { type ipv4_addr . mark; }\\nadd element inet fedmesh peers { 10.99.0.1 . 0x00000001 }\\n' | ip netns exec ${ns} nft -f -
  exit $rc
fi
exec ip netns exec ${ns} nft "$@"
`,
  );
  chmodSync(late, 0o755);
  const driver = new NftDriver(late);
  try {
    await assert.rejects(
      driver.fullSync(() => largeRuleset(large)),
      /^NftError: creating set peers ahead of the full sync: nft -f refused the transaction .*File exists/,
    );
    assert.deepEqual(elementsOf('peers'), ['10.99.0.1 . 0x00000001'], 'not one element added to it');
  } finally {
    await driver.close();
  }
  const next = new NftDriver(nft);
  try {
    await next.fullSync(() => largeRuleset(large));
    assert.deepEqual(elementsOf('peers'), [...large].sort());
  } finally {
    await next.close();
    spawnSync(nft, ['delete', 'table', 'inet', 'fedmesh']);
  }
});

/** The policy of the streaming tests: its peer selects east's pods labelled app=client. */
const clientsPolicy = adaptPolicy(
  compileNetworkPolicy(
    {
      metadata: { namespace: 'demo', name: 'clients' },
      spec: {
        podSelector: { matchLabels: { app: 'server' } },
        ingress: [
          {
            from: [
              {
                podSelector: {
                  matchLabels: { app: 'client' },
                  matchExpressions: [{ key: 'fedmesh.io/cluster', operator: 'In', values: ['east'] }],
                },
              },
            ],
          },
        ],
      },
    } as Parameters<typeof compileNetworkPolicy>[0],
    { localCluster: 'west' },
  ).policy!,
  'west',
);

const eastPod = (i: number, app = 'client') => ({
  cluster: 'east',
  namespace: 'demo',
  name: `pod-${i}`,
  nodeName: 'e0',
  ips: [`10.244.${(i >> 8) & 255}.${i & 255}`],
  labels: { app },
  ports: [],
});

test('peers streamed while computed: chunks go in during the calculation, and the full sync ends exact', async () => {
  spawnSync(nft, ['delete', 'table', 'inet', 'fedmesh']);
  const driver = new NftDriver(nft, { streamChunkElements: 4096 });
  try {
    const stream = await driver.streamSet(peersSet, peersDecl);
    assert.ok(stream, 'no table yet: the set is streamed');
    assert.deepEqual(tableObjects(), { chains: [], sets: ['peers'] }, 'created empty, nothing refers to it');
    const calc = calculationWithServer([]);
    calc.streamPeers(stream);
    calc.upsertPolicy(clientsPolicy);
    for (let i = 0; i < 20_000; i++) calc.upsertEndpoint(eastPod(i));
    // Changes during the stream: pods sent already leave (relabelled, deleted), one comes back.
    for (let i = 0; i < 100; i++) calc.upsertEndpoint(eastPod(i, 'other'));
    for (let i = 100; i < 200; i++) calc.deleteEndpoint('east', 'demo', `pod-${i}`);
    calc.upsertEndpoint(eastPod(5));
    // Chunks ran while the calculation went on: the kernel holds part of the set already, and no rule uses it.
    await new Promise((r) => setTimeout(r, 500));
    const early = elementsOf(peersSet).length;
    assert.ok(early >= 4096, `loaded while computed: ${early}`);
    const stats = await driver.fullSync(() => {
      calc.trackChanges(true);
      return calc.desired;
    });
    assert.ok((stats.streamedChunks ?? 0) >= 4, `streamed in chunks: ${stats.streamedChunks}`);
    const want = [...calc.desired.sets.get(peersSet)!.elements].sort();
    assert.equal(want.length, 19_801);
    assert.deepEqual(elementsOf(peersSet), want);
    assert.match(nftIn('list', 'chain', 'inet', 'fedmesh', 'forward'), /hook forward/);
    // From here on, changes are deltas as always.
    calc.upsertEndpoint(eastPod(7, 'other'));
    await driver.apply(calc.desired, calc.takeChanges());
    assert.deepEqual(elementsOf(peersSet), [...calc.desired.sets.get(peersSet)!.elements].sort());
  } finally {
    await driver.close();
    spawnSync(nft, ['delete', 'table', 'inet', 'fedmesh']);
  }
});

test('a stream that did not see every change is not trusted: the full sync refills the set, and a restart streams nothing', async () => {
  spawnSync(nft, ['delete', 'table', 'inet', 'fedmesh']);
  const driver = new NftDriver(nft, { streamChunkElements: 4096 });
  try {
    const stream = await driver.streamSet(peersSet, peersDecl);
    assert.ok(stream);
    const calc = calculationWithServer([]);
    calc.streamPeers(stream);
    calc.upsertPolicy(clientsPolicy);
    for (let i = 0; i < 10_000; i++) calc.upsertEndpoint(eastPod(i));
    stream.add('10.99.0.1 . 0x00000001'); // an element the calculation never had
    await driver.fullSync(() => {
      calc.trackChanges(true);
      return calc.desired;
    });
    assert.deepEqual(elementsOf(peersSet), [...calc.desired.sets.get(peersSet)!.elements].sort());
  } finally {
    await driver.close();
  }
  const again = new NftDriver(nft);
  try {
    assert.equal(await again.streamSet(peersSet, peersDecl), undefined, 'the set exists: nothing to stream');
  } finally {
    await again.close();
    spawnSync(nft, ['delete', 'table', 'inet', 'fedmesh']);
  }
});

test('startNftTransaction has nft running before it returns: a caller that never yields still gets it done', async () => {
  spawnSync(nft, ['delete', 'table', 'inet', 'fedmesh']);
  try {
    const done = startNftTransaction(
      nft,
      'add table inet fedmesh\nadd set inet fedmesh started { type ipv4_addr; }\n',
      dir,
    );
    // No await: an asynchronous file write would wait for this loop to end, and nft with it.
    const until = Date.now() + 5000;
    let seen = false;
    while (!seen && Date.now() < until) {
      seen = spawnSync(nft, ['list', 'set', 'inet', 'fedmesh', 'started']).status === 0;
    }
    assert.ok(seen, 'nft committed while the caller was still running');
    assert.equal((await done).code, 0);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith('fedmesh-nft-')),
      [],
      'no transaction file left',
    );
  } finally {
    spawnSync(nft, ['delete', 'table', 'inet', 'fedmesh']);
  }
});

/** The netlink requests nft sends for `args` (`-d mnl` prints each request's header, its type in decimal). */
function kernelRequests(args: readonly string[]): Set<number> {
  const out = nftIn('-d', 'mnl', ...args);
  return new Set(
    [...out.matchAll(/^\|\s*(\d+)\s*\|\s*[-A-Z]+\s*\|\s*\|\s*type\s*\|\s*flags\s*\|$/gm)].map((m) => Number(m[1])),
  );
}
/** NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_GETSETELEM, NFT_MSG_GETSET, NFT_MSG_GETCHAIN. */
const GETSETELEM = 0xa0d;
const GETSET = 0xa0a;
const GETCHAIN = 0xa04;

test('the read-back finds what `list table` finds, with 50k elements, and asks the kernel for no element', async (t) => {
  spawnSync(nft, ['delete', 'table', 'inet', 'fedmesh']);
  const peers = Array.from({ length: 50_000 }, (_, i) => el(i, 1 + (i % 7)));
  // fedmesh's objects as the agent writes them, and objects of the same names in another inet table and in an ip
  // table fedmesh: not ours.
  const lines = [
    'add table inet fedmesh',
    'add set inet fedmesh peers { type ipv4_addr . mark; }',
    'add set inet fedmesh node-cidrs { type ipv4_addr; flags interval; auto-merge; }',
    'add element inet fedmesh node-cidrs { 10.245.0.0/24, 10.246.0.0/16 }',
    'add set inet fedmesh port-lists { type inet_service . mark; flags interval; }',
    'add map inet fedmesh ingress-eps { type ipv4_addr : verdict; }',
    'add chain inet fedmesh forward { type filter hook forward priority filter; policy accept; }',
    'add chain inet fedmesh prof-x',
    'add rule inet fedmesh prof-x ip saddr . (meta mark & 0x00000000 | 0x00000001) @peers return',
    'add rule inet fedmesh prof-x tcp dport { 80, 443 } ip saddr @node-cidrs return',
    'add rule inet fedmesh prof-x drop',
    'add element inet fedmesh ingress-eps { 10.245.0.2 : jump prof-x }',
    'add rule inet fedmesh forward ip daddr vmap @ingress-eps',
    'add table inet fm-other',
    'add set inet fm-other node-cidrs { type ipv4_addr; }',
    'add map inet fm-other egress-eps { type ipv4_addr : verdict; }',
    'add chain inet fm-other forward { type filter hook forward priority filter; policy drop; }',
    'add table ip fedmesh',
    'add set ip fedmesh other-peers { type ipv4_addr; }',
    'add chain ip fedmesh prof-y',
    ...Array.from(
      { length: Math.ceil(peers.length / 4096) },
      (_, i) => `add element inet fedmesh peers { ${peers.slice(i * 4096, (i + 1) * 4096).join(', ')} }`,
    ),
    '',
  ];
  const load = spawnSync(nft, ['-f', '-'], { input: lines.join('\n') });
  assert.equal(load.status, 0, load.stderr.toString());
  // nft that logs its arguments, one a line, each run ending in `--`.
  const log = join(dir, 'read-back-args.log');
  const recording = join(dir, 'nft-recording');
  writeFileSync(
    recording,
    `#!/bin/sh\n{ printf '%s\\n' "$@"; echo --; } >> ${log}\nexec ip netns exec ${ns} nft "$@"\n`,
  );
  chmodSync(recording, 0o755);
  const driver = new NftDriver(recording);
  try {
    const started = performance.now();
    const existing = await driver.readExisting();
    const readBackMs = performance.now() - started;
    const listStarted = performance.now();
    const listed = parseExisting(nftIn('-t', '-j', 'list', 'table', 'inet', 'fedmesh'));
    // For the log only: a timing assert would fail on a busy machine.
    t.diagnostic(
      `50k elements: read-back ${readBackMs.toFixed(0)} ms, list table ${(performance.now() - listStarted).toFixed(0)} ms`,
    );
    assert.deepEqual(existing, listed);
    assert.deepEqual(existing, {
      table: true,
      sets: new Set(['peers', 'node-cidrs', 'port-lists']),
      maps: new Set(['ingress-eps']),
      chains: new Set(['forward', 'prof-x']),
      shapes: new Map([
        ['set peers', declaredShape('type ipv4_addr . mark;')],
        ['set node-cidrs', declaredShape('type ipv4_addr; flags interval; auto-merge;')],
        ['set port-lists', declaredShape('type inet_service . mark; flags interval;')],
        ['map ingress-eps', declaredShape('type ipv4_addr : verdict;')],
        ['chain forward', declaredChainShape('type filter hook forward priority filter; policy accept;')],
        ['chain prof-x', declaredChainShape(undefined)],
      ]),
    });

    // One nft run, and what it asks the kernel: sets and chains, never a set's elements. The same check on `list
    // table` (which nft 1.0.6 answers by fetching every element, -t or not) shows the check sees element requests.
    const runs = readFileSync(log, 'utf8')
      .split('--\n')
      .filter((r) => r !== '');
    assert.equal(runs.length, 1, runs.join(' | '));
    const args = runs[0]!.trimEnd().split('\n');
    const asked = kernelRequests(args);
    assert.ok(asked.has(GETSET) && asked.has(GETCHAIN), [...asked].join(' '));
    assert.equal(asked.has(GETSETELEM), false, `nft ${args.join(' ')} fetches set elements`);
    assert.ok(kernelRequests(['-t', '-j', 'list', 'table', 'inet', 'fedmesh']).has(GETSETELEM));

    // No table inet fedmesh (while others are there): absent, not an error.
    nftIn('delete', 'table', 'inet', 'fedmesh');
    assert.deepEqual(await driver.readExisting(), {
      table: false,
      sets: new Set(),
      maps: new Set(),
      chains: new Set(),
    });
  } finally {
    await driver.close();
    for (const [family, name] of [
      ['inet', 'fedmesh'],
      ['inet', 'fm-other'],
      ['ip', 'fedmesh'],
    ] as const) {
      spawnSync(nft, ['delete', 'table', family, name]);
    }
  }
});
