/**
 * The line of `input` that holds `position`, and under it a caret at that position: two lines for a terminal.
 * Tabs are kept so the caret lines up; other control characters show as their Unicode pictures (one column each).
 */
export function caretUnder(input: string, position: number, indent = '  '): string {
  const lineStart = position === 0 ? 0 : input.lastIndexOf('\n', position - 1) + 1;
  const newline = input.indexOf('\n', lineStart);
  const lineEnd = newline === -1 ? input.length : newline;
  const line = input.slice(lineStart, lineEnd);
  const before = input.slice(lineStart, Math.min(position, lineEnd));
  const pad = [...before].map((ch) => (ch === '\t' ? '\t' : ' ')).join('');
  return `${indent}${visible(line)}\n${indent}${pad}^`;
}

function visible(line: string): string {
  let out = '';
  for (const ch of line) {
    const c = ch.charCodeAt(0);
    if (c === 0x7f) out += '\u2421';
    else if (c < 0x20 && c !== 0x09) out += String.fromCharCode(0x2400 + c);
    else out += ch;
  }
  return out;
}
