// Placeholder until the selector core lands (issue 3).
export async function selectorMain(_argv: string[]): Promise<number> {
  console.error('fedmesh selector: not built yet');
  return 1;
}
