import Ajv from 'ajv';
import type { WatchEvent } from './rest-client.js';

/**
 * The envelope of one watch line (`{"type": …, "object": {…}}`), as kube-apiserver's watch encoder writes it, and
 * the object's resourceVersion (where a watch resumes: a bad one is the stream's problem). Everything else,
 * name and namespace included, is its consumer's schema to check, one object at a time: a malformed object is
 * refused alone, it does not end the stream that carries it.
 */
const watchEventSchema = {
  type: 'object',
  required: ['type', 'object'],
  properties: {
    type: { enum: ['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR'] },
    object: {
      type: 'object',
      properties: {
        metadata: {
          type: 'object',
          properties: { resourceVersion: { type: 'string' } },
        },
      },
    },
  },
} as const;

const ajv = new Ajv.default({ allErrors: false });
const validate = ajv.compile<WatchEvent>(watchEventSchema);

export type ParsedWatchLine = { readonly event: WatchEvent } | { readonly problem: string };

/** Parses one line of a watch stream; a problem names what is wrong, never quotes more than a little of it. */
export function parseWatchLine(line: string): ParsedWatchLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { problem: `the server sent a line that is not JSON (${excerpt(line)})` };
  }
  if (!validate(value)) {
    const e = validate.errors?.[0];
    const where = e ? `${e.instancePath || '/'} ${e.message ?? ''}`.trim() : '';
    return { problem: `the server sent a line that is not a watch event (${where})` };
  }
  return { event: value };
}

function excerpt(line: string): string {
  const printable = line.slice(0, 40).replace(/[^\x20-\x7e]/g, '?');
  return line.length > 40 ? `${printable}…, ${line.length} bytes` : printable;
}

/** One page of a list: `items` (objects) and the list's `metadata` (resourceVersion, continue). */
export interface ListPage {
  readonly metadata?: { readonly resourceVersion?: string; readonly continue?: string };
  readonly items?: readonly Record<string, unknown>[];
}

const listPageSchema = {
  type: 'object',
  properties: {
    metadata: {
      type: 'object',
      properties: { resourceVersion: { type: 'string' }, continue: { type: 'string' } },
    },
    items: { type: ['array', 'null'], items: { type: 'object' } },
  },
} as const;

const validateList = ajv.compile<ListPage>(listPageSchema);

/** Checks the envelope of a list answer; a problem says what is wrong with it. */
export function checkListPage(body: unknown): { readonly page: ListPage } | { readonly problem: string } {
  if (validateList(body)) return { page: body };
  const e = validateList.errors?.[0];
  const where = e ? `${e.instancePath || '/'} ${e.message ?? ''}`.trim() : '';
  return { problem: `the server answered a list with something that is not a list (${where})` };
}
