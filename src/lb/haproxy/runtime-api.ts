/**
 * Clients for HAProxy's two command sockets (unix stream sockets):
 *
 * - the admin stats socket (`stats socket ... level admin`), served by the
 *   current worker: `show stat`, `set server`, `add server`, `del server`...
 * - the master CLI (`-S <path>`), served by the master: `show proc`, `reload`.
 *
 * One command per connection, in HAProxy's non-interactive mode: it reads a
 * line, answers and closes, so the end of the stream is the end of the
 * answer and no prompt parsing is needed. A connection costs well under a
 * millisecond on a unix socket. Commands that succeed answer with nothing or
 * a fixed sentence; anything else is HAProxy explaining a refusal, which is
 * passed on as the error message.
 */
import net from 'node:net';
import { LbError } from '../../errors.js';
import { parseShowInfo, parseShowProc, parseShowStat, type ProcList, type StatRow } from './runtime-parse.js';

export type ServerState = 'ready' | 'drain' | 'maint';

/** Sends one command line and resolves with everything HAProxy wrote before closing. */
export function sendCommand(socketPath: string, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`${socketPath}: no answer to "${command}" within ${timeoutMs} ms`)),
    );
    // Half-close after the command: the master CLI of 2.6 keeps the connection open until the client does.
    socket.on('connect', () => socket.end(`${command}\n`));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', (hadError) => {
      if (!hadError) resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** The command words must not break the line: HAProxy splits commands on `;` and ends them at a newline. */
function word(value: string): string {
  if (!/^[A-Za-z0-9_.:/[\]@-]+$/.test(value)) throw new LbError('LB_APPLY_FAILED', `unsafe runtime API argument ${JSON.stringify(value)}`);
  return value;
}

export class RuntimeApi {
  constructor(
    readonly socketPath: string,
    private readonly timeoutMs = 5000,
  ) {}

  /** Raw command; rejects only when the socket fails. */
  command(line: string): Promise<string> {
    return sendCommand(this.socketPath, line, this.timeoutMs);
  }

  /** Runs a command whose success is `accepted` (trimmed output); otherwise throws with HAProxy's words. */
  private async expect(line: string, accepted: string): Promise<void> {
    let out: string;
    try {
      out = (await this.command(line)).trim();
    } catch (err) {
      throw new LbError('LB_APPLY_FAILED', `runtime API "${line}": ${(err as Error).message}`, { cause: err });
    }
    if (out !== accepted) throw new LbError('LB_APPLY_FAILED', `runtime API "${line}": ${out || 'no answer'}`);
  }

  async showStat(): Promise<StatRow[]> {
    return parseShowStat(await this.command('show stat'));
  }

  async showInfo(): Promise<Record<string, string>> {
    return parseShowInfo(await this.command('show info'));
  }

  /** The text `server-state-file` expects, as HAProxy writes it. */
  async showServersState(): Promise<string> {
    const out = await this.command('show servers state');
    if (!out.startsWith('1\n')) throw new LbError('LB_APPLY_FAILED', `show servers state: ${out.trim() || 'no answer'}`);
    return out;
  }

  setWeight(backend: string, server: string, weight: number): Promise<void> {
    return this.expect(`set server ${word(backend)}/${word(server)} weight ${Math.round(weight)}`, '');
  }

  setState(backend: string, server: string, state: ServerState): Promise<void> {
    return this.expect(`set server ${word(backend)}/${word(server)} state ${state}`, '');
  }

  /** HAProxy 2.6 registers a dynamic server in maintenance, with checks off: see enableHealth and setState. */
  addServer(backend: string, server: string, words: readonly string[]): Promise<void> {
    return this.expect(`add server ${word(backend)}/${word(server)} ${words.map(word).join(' ')}`, 'New server registered.');
  }

  enableHealth(backend: string, server: string): Promise<void> {
    return this.expect(`enable health ${word(backend)}/${word(server)}`, '');
  }

  /** HAProxy only deletes a server in maintenance with no connection left on it. */
  delServer(backend: string, server: string): Promise<void> {
    return this.expect(`del server ${word(backend)}/${word(server)}`, 'Server deleted.');
  }

  shutdownSessions(backend: string, server: string): Promise<void> {
    return this.expect(`shutdown sessions server ${word(backend)}/${word(server)}`, '');
  }

  /** Current sessions on one server (`scur`), or undefined when HAProxy does not know it. */
  async serverSessions(backend: string, server: string): Promise<number | undefined> {
    const row = (await this.showStat()).find((r) => r.pxname === backend && r.svname === server);
    return row ? Number(row.scur ?? 0) : undefined;
  }
}

export class MasterCli {
  constructor(
    readonly socketPath: string,
    private readonly timeoutMs = 5000,
  ) {}

  command(line: string): Promise<string> {
    return sendCommand(this.socketPath, line, this.timeoutMs);
  }

  async showProc(): Promise<ProcList> {
    return parseShowProc(await this.command('show proc'));
  }

  /**
   * Asks the master to re-execute itself with the config on disk. HAProxy
   * 2.6 answers nothing and closes: whether it worked shows in `show proc`
   * afterwards (a new worker, or the `failed` count going up).
   */
  async reload(): Promise<void> {
    await this.command('reload');
  }
}
