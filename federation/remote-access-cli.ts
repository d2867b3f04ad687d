// Placeholder until the federation core lands (issue 4).
export async function remoteAccessMain(_argv: string[]): Promise<number> {
  console.error('fedmesh remote-access: not built yet');
  return 1;
}
