import { UsageError } from '../core/cli/usage-error.js';

/** A subcommand: runs with the arguments after its name, returns the process exit code. */
export type CommandMain = (argv: string[]) => Promise<number>;

interface CommandEntry {
  readonly summary: string;
  readonly load: () => Promise<CommandMain>;
}

// Loaded lazily so that `fedmesh selector` does not pay for the testbed's or the server's imports.
const commands: Readonly<Record<string, CommandEntry>> = {
  testbed: {
    summary: 'real local clusters for development, tests and demos (build, up, seed, status, down)',
    load: async () => (await import('../test/testbed/cli.js')).testbedMain,
  },
  server: {
    summary: 'the fedmesh server: mesh cache of every remote cluster, aggregated API, admission webhooks',
    load: async () => (await import('./server.js')).serverMain,
  },
  webhooks: {
    summary: 'the validating admission webhooks (policies, RemoteClusterConfigurations, federated Services)',
    load: async () => (await import('./webhooks.js')).webhooksMain,
  },
  policy: {
    summary: 'explain what a NetworkPolicy or FederatedNetworkPolicy selects across the mesh (policy explain)',
    load: async () => (await import('./policy.js')).policyMain,
  },
  'remote-access': {
    summary: 'create (or print) the read-only access a cluster grants to the mesh, and the RCC to apply',
    load: async () => (await import('../federation/remote-access-cli.js')).remoteAccessMain,
  },
  agent: {
    summary: 'the node agent: VXLAN overlay to remote clusters and network policy in nftables',
    load: async () => (await import('../dataplane-agent/cli.js')).agentMain,
  },
  selector: {
    summary: 'check and evaluate Calico-style selectors',
    load: async () => (await import('../core/selector/cli.js')).selectorMain,
  },
};

function usage(): string {
  const names = Object.keys(commands);
  const width = Math.max(...names.map((n) => n.length)) + 2;
  return [
    'usage: fedmesh COMMAND [flags]',
    '',
    'commands:',
    ...names.map((n) => `  ${n.padEnd(width)}${commands[n]?.summary ?? ''}`),
    '',
    'Run `fedmesh COMMAND --help` for the flags of a command.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const entry = commands[name];
  if (!entry) {
    console.error(`fedmesh: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await (await entry.load())(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`fedmesh ${err.command}: ${err.message}\nRun \`fedmesh ${err.command} --help\` for usage.`);
      return 2;
    }
    throw err;
  }
}
