// Placeholder until the federation core lands (issue 4).
export async function serverMain(_argv: string[]): Promise<number> {
  console.error('fedmesh server: not built yet');
  return 1;
}
