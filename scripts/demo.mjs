#!/usr/bin/env node
// The README's run command: a local mesh of real clusters, seeded with nodes and pods, ending with what
// kubectl shows. Installs what is missing first; leaves the testbed running (stop it: npx fedmesh testbed down).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureAll, root } from './ensure-deps.mjs';

const clusters = ['east', 'west', 'north'];
const fedmesh = join(root, 'bin', 'fedmesh.js');

function step(title, cmd, args, env = {}) {
  console.log(`\n$ ${title}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) {
    console.error(`demo: "${title}" failed (exit ${r.status}); see the output above`);
    process.exit(1);
  }
}

const run = (title, ...args) => step(title, process.execPath, [fedmesh, ...args]);

ensureAll();
run('fedmesh testbed build', 'testbed', 'build');
run('fedmesh testbed down   # a fresh start', 'testbed', 'down');
run(`fedmesh testbed up --clusters ${clusters.join(',')}`, 'testbed', 'up', '--clusters', clusters.join(','));
for (const c of clusters) {
  run(
    `fedmesh testbed seed --cluster ${c} --file examples/testbed/${c}.yaml`,
    'testbed',
    'seed',
    '--cluster',
    c,
    '--file',
    join('examples', 'testbed', `${c}.yaml`),
  );
}
run('fedmesh testbed deploy   # a fedmesh server per cluster, every pair joined', 'testbed', 'deploy');
run('fedmesh testbed status', 'testbed', 'status');

const { cacheDir } = await import(join(root, 'dist', 'test', 'testbed', 'versions.js'));
const kubectl = join(cacheDir(), 'bin', 'kubectl');
const inEast = { KUBECONFIG: join(root, '.testbed', 'east.kubeconfig') };
step(
  'kubectl --kubeconfig .testbed/west.kubeconfig get pods -n shop -o wide',
  kubectl,
  ['get', 'pods', '-n', 'shop', '-o', 'wide'],
  {
    KUBECONFIG: join(root, '.testbed', 'west.kubeconfig'),
  },
);
step(
  'kubectl --kubeconfig .testbed/east.kubeconfig get remoteclusterconfigurations',
  kubectl,
  ['get', 'rcc', '-o', 'wide'],
  inEast,
);
step(
  'kubectl --kubeconfig .testbed/east.kubeconfig get federatedendpoints,remoteworkloads,remotenodes -A',
  kubectl,
  ['get', 'federatedendpoints,remoteworkloads,remotenodes', '-A'],
  inEast,
);
console.log('\nThe testbed keeps running. Stop it with: npx fedmesh testbed down');
