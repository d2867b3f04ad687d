import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileFederatedNetworkPolicy } from './compile-fnp.js';
import { formatDiagnostic } from './diagnostics.js';
import type { FnpSpec } from './fnp-types.js';
import { comparePolicies, type NormalizedPolicy, UNORDERED } from './model.js';

const local = { localCluster: 'east' };

function compile(spec: FnpSpec, name = 'p') {
  return compileFederatedNetworkPolicy({ metadata: { name, namespace: 'shop' }, spec }, local);
}

function compiled(spec: FnpSpec, name = 'p'): NormalizedPolicy {
  const r = compile(spec, name);
  assert.deepEqual(r.errors, []);
  assert.ok(r.policy);
  return r.policy;
}

function paths(spec: FnpSpec) {
  const r = compile(spec);
  return { errors: r.errors.map((e) => e.path), warnings: r.warnings.map((w) => w.path), r };
}

test('an FNP normalizes: order, selector, ordered Allow/Deny rules with protocol, ports, peers and scope', () => {
  const p = compiled({
    selector: "app == 'db'",
    order: 10,
    ingress: [
      {
        action: 'Deny',
        protocol: 'TCP',
        source: { selector: "fedmesh.io/cluster == 'west' && role == 'batch'" },
        destination: { ports: [5432, '6000:6010', 'metrics'] },
      },
      { action: 'Allow', source: { selector: "app == 'web'", namespaceSelector: "team == 'a'" } },
      { action: 'Allow', protocol: 'ICMP', icmp: { type: 8, code: 0 } },
    ],
    egress: [{ action: 'Allow', destination: { nets: ['10.0.0.0/8', 'fd00::/64'] } }],
  });
  assert.equal(p.kind, 'FederatedNetworkPolicy');
  assert.equal(p.order, 10);
  assert.equal(p.appliesToText, 'app == "db"');
  assert.deepEqual(p.types, ['Ingress', 'Egress']);
  const [deny, allow, ping] = p.ingress;
  assert.equal(deny!.action, 'Deny');
  assert.equal(deny!.protocol, 'TCP');
  assert.deepEqual(deny!.ports, [
    { kind: 'range', from: 5432, to: 5432 },
    { kind: 'range', from: 6000, to: 6010 },
    { kind: 'named', name: 'metrics' },
  ]);
  const peer = deny!.peers![0]!;
  assert.ok(peer.kind === 'endpoints');
  assert.deepEqual(peer.clusters, { kind: 'named', names: ['west'] });
  assert.deepEqual(peer.namespaces, { kind: 'same', name: 'shop' });
  assert.equal(peer.path, 'spec.ingress[0].source');
  const byNs = allow!.peers![0]!;
  assert.ok(byNs.kind === 'endpoints');
  assert.deepEqual(byNs.clusters, { kind: 'local' });
  assert.equal(byNs.namespaces.kind === 'selector' && byNs.namespaces.text, 'team == "a"');
  assert.deepEqual(ping!.icmp, { type: 8, code: 0 });
  assert.equal(ping!.protocol, 'ICMP');
  assert.equal(ping!.peers, null);
  assert.deepEqual(p.egress[0]!.peers, [
    {
      kind: 'nets',
      nets: [
        { cidr: '10.0.0.0/8', except: [] },
        { cidr: 'fd00::/64', except: [] },
      ],
      path: 'spec.egress[0].destination',
    },
  ]);
});

test('defaults: selector all(), no order sorts after every ordered policy, then by name', () => {
  const a = compiled({}, 'a');
  assert.equal(a.appliesToText, 'all()');
  assert.equal(a.order, UNORDERED);
  assert.deepEqual(a.types, ['Ingress']);
  const ordered = compiled({ order: 2000 }, 'z');
  const sorted = [a, ordered, compiled({}, '0')].sort(comparePolicies);
  assert.deepEqual(
    sorted.map((p) => p.name),
    ['z', '0', 'a'],
  );
});

test('protocol names in any case and numbers; known numbers become names', () => {
  const p = compiled({
    ingress: [
      { action: 'Allow', protocol: 'udp' },
      { action: 'Allow', protocol: 6 },
      { action: 'Allow', protocol: 47 },
      { action: 'Allow', protocol: '132' },
    ],
  });
  assert.deepEqual(
    p.ingress.map((r) => r.protocol),
    ['UDP', 'TCP', 47, 'SCTP'],
  );
});

test('a selector syntax error names the field, the position and shows a caret', () => {
  const { errors, r } = paths({ ingress: [{ action: 'Allow', source: { selector: "app == 'web' &&" } }] });
  assert.deepEqual(errors, ['spec.ingress[0].source.selector']);
  assert.equal(r.policy, null);
  assert.equal(
    formatDiagnostic(r.errors[0]!),
    "spec.ingress[0].source.selector: invalid selector at position 15: expected a label, has(…), all(), global(), '!' or '(', found end of selector\n  app == 'web' &&\n                 ^",
  );
});

test('each misuse is an error at its own path', () => {
  const cases: [FnpSpec, string, RegExp][] = [
    [{ selector: "fedmesh.io/cluster == 'west'" }, 'spec.selector', /local endpoints only/],
    [{ selector: 'a ==' }, 'spec.selector', /invalid selector at position 4/],
    [
      { ingress: [{ action: 'Allow', destination: { ports: [80] } }] },
      'spec.ingress[0].destination.ports',
      /need a protocol/,
    ],
    [
      { ingress: [{ action: 'Allow', protocol: 'ICMP', destination: { ports: [80] } }] },
      'spec.ingress[0].destination.ports',
      /protocol ICMP has no ports/,
    ],
    [
      { ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [0] } }] },
      'spec.ingress[0].destination.ports[0]',
      /1 to 65535/,
    ],
    [
      { ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['90:80'] } }] },
      'spec.ingress[0].destination.ports[0]',
      /first <= last/,
    ],
    [
      { ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['Not_A_Name'] } }] },
      'spec.ingress[0].destination.ports[0]',
      /not a port number, a range/,
    ],
    [
      { ingress: [{ action: 'Allow', protocol: 'TCP', icmp: { type: 8 } }] },
      'spec.ingress[0].icmp',
      /needs protocol ICMP/,
    ],
    [
      { ingress: [{ action: 'Allow', protocol: 'ICMP', icmp: { code: 1 } }] },
      'spec.ingress[0].icmp.type',
      /code needs its type/,
    ],
    [{ ingress: [{ action: 'Allow', protocol: 'GRE' }] }, 'spec.ingress[0].protocol', /Unsupported value: "GRE"/],
    [{ ingress: [{ action: 'Allow', protocol: 256 }] }, 'spec.ingress[0].protocol', /1 to 255/],
    [{ ingress: [{ action: 'Log' }] }, 'spec.ingress[0].action', /Unsupported value: "Log"/],
    [{ ingress: [{}] }, 'spec.ingress[0].action', /Required value/],
    [
      { egress: [{ action: 'Allow', destination: { nets: ['10.0.0.0'] } }] },
      'spec.egress[0].destination.nets[0]',
      /prefix length/,
    ],
    [
      { egress: [{ action: 'Allow', destination: { nets: ['10.0.0.0/8'], selector: 'all()' } }] },
      'spec.egress[0].destination',
      /not both/,
    ],
    [
      { ingress: [{ action: 'Allow', destination: { selector: "app == 'x'" } }] },
      'spec.ingress[0].destination.selector',
      /policy's own endpoints/,
    ],
    [
      { egress: [{ action: 'Allow', source: { nets: ['10.0.0.0/8'] } }] },
      'spec.egress[0].source.nets',
      /policy's own endpoints/,
    ],
    [
      { ingress: [{ action: 'Allow', protocol: 'TCP', source: { ports: [80] } }] },
      'spec.ingress[0].source.ports',
      /source ports are not supported/,
    ],
    [
      { ingress: [{ action: 'Allow', source: { namespaceSelector: 'global()' } }] },
      'spec.ingress[0].source.namespaceSelector',
      /global\(\)/,
    ],
    [
      { ingress: [{ action: 'Allow', source: { selector: "fedmesh.io/cluster in {'West'}" } }] },
      'spec.ingress[0].source.selector',
      /not a valid cluster name/,
    ],
    [{ types: ['Ingress', 'Sideways'] }, 'spec.types[1]', /Unsupported value: "Sideways"/],
    [{ types: ['Ingress', 'Ingress'] }, 'spec.types[1]', /Duplicate value/],
  ];
  for (const [spec, path, message] of cases) {
    const r = compile(spec);
    assert.equal(r.errors.length, 1, `${JSON.stringify(spec)}: ${JSON.stringify(r.errors)}`);
    assert.equal(r.errors[0]!.path, path, JSON.stringify(spec));
    assert.match(r.errors[0]!.message, message, JSON.stringify(spec));
  }
});

test('legal but probably wrong: warnings at their paths', () => {
  const cases: [FnpSpec, string, RegExp][] = [
    [
      { ingress: [{ action: 'Allow', source: { selector: "fedmesh.io/cluster != 'west'" } }] },
      'spec.ingress[0].source.selector',
      /every other remote cluster/,
    ],
    [
      { ingress: [{ action: 'Allow', source: { selector: '!(fedmesh.io/cluster in {"a"})' } }] },
      'spec.ingress[0].source.selector',
      /not in "a" selects local endpoints AND/,
    ],
    [
      { ingress: [{ action: 'Allow', source: { selector: '!has(fedmesh.io/cluster)' } }] },
      'spec.ingress[0].source.selector',
      /matches no endpoint/,
    ],
    [
      {
        ingress: [{ action: 'Allow', source: { selector: "fedmesh.io/cluster == 'a' && fedmesh.io/cluster == 'b'" } }],
      },
      'spec.ingress[0].source',
      /admit no cluster/,
    ],
    [
      { ingress: [{ action: 'Allow', source: { selector: '!all()' } }] },
      'spec.ingress[0].source.selector',
      /matches nothing/,
    ],
    [{ selector: '!all()' }, 'spec.selector', /applies to no endpoint/],
    [{ types: ['Egress'], ingress: [{ action: 'Allow' }] }, 'spec.ingress', /does not include Ingress/],
    [{ types: ['Ingress'], egress: [{ action: 'Allow' }] }, 'spec.egress', /does not include Egress/],
    [
      { egress: [{ action: 'Allow', destination: { nets: ['10.1.2.3/8'] } }] },
      'spec.egress[0].destination.nets[0]',
      /means 10.0.0.0\/8/,
    ],
    [
      { egress: [{ action: 'Allow', protocol: 'ICMPv6', destination: { nets: ['10.0.0.0/8'] } }] },
      'spec.egress[0].destination.nets',
      /never carries IPv4/,
    ],
  ];
  for (const [spec, path, message] of cases) {
    const r = compile(spec);
    assert.deepEqual(r.errors, [], JSON.stringify(spec));
    assert.ok(r.policy);
    assert.equal(r.warnings.length, 1, `${JSON.stringify(spec)}: ${JSON.stringify(r.warnings)}`);
    assert.equal(r.warnings[0]!.path, path, JSON.stringify(spec));
    assert.match(r.warnings[0]!.message, message, JSON.stringify(spec));
  }
});

test('a clean policy has no warnings', () => {
  const r = compile({
    selector: "app == 'db'",
    ingress: [
      {
        action: 'Allow',
        protocol: 'TCP',
        source: { selector: "fedmesh.io/cluster in {'west'}" },
        destination: { ports: [80] },
      },
    ],
  });
  assert.deepEqual([r.errors, r.warnings], [[], []]);
});
