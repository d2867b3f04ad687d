// The text form of `fedmesh policy explain`: one block per policy, one line per endpoint.

import type { PolicyExplanation } from '../core/policy/explain.js';

export function formatExplanation(x: PolicyExplanation): string {
  const lines: string[] = [];
  const order = x.order === null ? 'no order (after every ordered policy)' : `order ${x.order}`;
  lines.push(`${x.kind} ${x.namespace}/${x.name} (${order})`);
  lines.push(`applies to ${x.appliesTo.endpoints.length} local endpoint(s) matching ${x.appliesTo.selector}:`);
  for (const e of x.appliesTo.endpoints) lines.push(`  ${e}`);
  for (const d of x.directions) {
    lines.push('', `${d.direction}:`);
    if (d.rules.length === 0) lines.push('  no rules: nothing of this direction is allowed by this policy');
    for (const r of d.rules) {
      lines.push(`  [${r.index}] ${r.action} ${r.traffic}${r.peers === null ? ' anywhere' : ':'}   (${r.path})`);
      for (const p of r.peers ?? []) {
        lines.push(`      ${p.description}   (${p.path})`);
        if (p.note !== undefined) lines.push(`      note: ${p.note}`);
        if (p.selects.length === 0) lines.push('        (no endpoint now)');
        for (const e of p.selects) lines.push(`        ${e}`);
      }
    }
    if (d.decisions.length > 0) {
      lines.push(`  deciding rule per endpoint (the first that takes it in):`);
      const width = Math.max(...d.decisions.map((x) => x.endpoint.length));
      for (const dec of d.decisions) lines.push(`    ${dec.endpoint.padEnd(width)}  [${dec.rule}] ${dec.action}`);
    }
    lines.push(
      `  any other ${d.direction === 'Ingress' ? 'source' : 'destination'}: no rule here; the next policy in order decides, and it is denied if none allows it`,
    );
  }
  return lines.join('\n');
}
