import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../core/cli/usage-error.js';
import { agentMain } from './cli.js';

test('fedmesh agent refuses bad flags with a message that names the flag', async () => {
  const refuses = async (argv: string[], message: RegExp) =>
    assert.rejects(agentMain(argv), (err: unknown) => err instanceof UsageError && message.test(err.message));
  const base = ['--node-name', 'n0', '--cluster-name', 'west'];
  await refuses(['--cluster-name', 'west'], /--node-name is required/);
  await refuses(['--node-name', 'n0'], /--cluster-name is required/);
  await refuses([...base, '--vxlan-vni', '0'], /--vxlan-vni must be an integer from 1 to 16777215/);
  await refuses([...base, '--vxlan-port', '70000'], /--vxlan-port/);
  await refuses([...base, '--vxlan-mtu', 'big'], /--vxlan-mtu/);
  await refuses([...base, '--vxlan-device', 'a-very-long-device-name'], /--vxlan-device must be 1-15/);
  await refuses([...base, '--underlay-interface', 'eth0; rm'], /is not an interface name/);
  await refuses([...base, '--no-such-flag'], /unknown flag/);
});
