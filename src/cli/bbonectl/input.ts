/**
 * FILE or `-` (stdin) -> a JSON object, with errors that say which input and
 * what is wrong. Bad input is a validation error (exit 2), found before
 * anything is published.
 */
import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { MessageError, UsageError } from '../../errors.js';
import { isPlainObject, parseDesiredApps, type DesiredApps } from '../../protocol/bbone/index.js';

export async function readInput(file: string, stdin: NodeJS.ReadableStream): Promise<string> {
  if (file === '-') return text(stdin);
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export function parseJsonObject(source: string, name: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (err) {
    throw new MessageError('MESSAGE_MALFORMED', `${name} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isPlainObject(value)) throw new MessageError('MESSAGE_INVALID', `${name} must hold a JSON object`);
  return value;
}

/**
 * The desired apps of a set_config: the file holds either the `data` map or
 * a whole `{"opcode": "set_config", "data": ...}` message. Checked with the
 * agent's own parser so what passes here is what the agent accepts.
 */
export function desiredAppsFrom(doc: Record<string, unknown>): DesiredApps {
  if ('opcode' in doc) {
    if (doc.opcode !== 'set_config') {
      throw new MessageError('MESSAGE_INVALID', `field "opcode" must be "set_config" in a set-config file, got ${JSON.stringify(doc.opcode)}`, 'opcode');
    }
    return parseDesiredApps(doc.data);
  }
  return parseDesiredApps(doc);
}
