export async function testbedMain(_argv: string[]): Promise<number> {
  return 1;
}
