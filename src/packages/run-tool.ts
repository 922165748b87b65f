/**
 * How the package backends run rpm, dpkg, apt-get and dnf: argument arrays
 * through execa (never a shell), stdin closed so a tool that wants to ask a
 * question gets EOF instead of hanging the agent, the C locale so messages
 * are the same on every host, and a timeout so a stuck tool (a held lock, a
 * prompt) cannot stall converges forever.
 *
 * execa is imported on first use: it costs ~10 MB of memory once loaded and
 * an idle agent whose apps are all converged never runs a package tool.
 */
import { PackageError, textTail, type ErrorCode } from '../errors.js';

export interface ToolResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface ToolOptions {
  env?: Record<string, string>;
  timeoutMs: number;
}

/** The seam tests replace to check argument arrays of paths that cannot run here (apt-get, dnf on /). */
export type ToolRunner = (file: string, args: readonly string[], opts: ToolOptions) => Promise<ToolResult>;

export const runWithExeca: ToolRunner = async (file, args, opts) => {
  const { execa } = await import('execa');
  const r = await execa(file, [...args], {
    reject: false,
    stdin: 'ignore',
    timeout: opts.timeoutMs,
    env: toolEnv(opts.env),
    extendEnv: true,
    stripFinalNewline: false,
  });
  const exitCode = typeof r.exitCode === 'number' ? r.exitCode : r.failed ? -1 : 0;
  // A missing program (ENOENT) has no exit code and no stderr: keep execa's own message.
  const stderr = r.stderr || (r.failed && exitCode === -1 ? (r.shortMessage ?? '') : '');
  return { exitCode, stdout: r.stdout, stderr, timedOut: r.timedOut };
};

/**
 * dpkg refuses to run unless ldconfig and start-stop-daemon are on PATH, and
 * rpm/dnf call tools from /usr/sbin; an agent started from a minimal
 * environment (or a non-root test shell) may lack the sbin directories.
 */
export function toolEnv(extra: Record<string, string> = {}): Record<string, string> {
  const path = (process.env.PATH ?? '').split(':').filter(Boolean);
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    if (!path.includes(dir)) path.push(dir);
  }
  return { LC_ALL: 'C', PATH: path.join(':'), ...extra };
}

const TAIL_CHARS = 1500;

// Debian's rpm prints this on every call; it says nothing about the failure and would crowd it out of the tail.
const NOISE = [/^rpm: RPM should not be used directly/, /^rpm: However assuming you know what you are doing/];

/** The last ~1500 characters of what the tool said, without known noise: the part that names the problem. */
export function outputTail(r: Pick<ToolResult, 'stdout' | 'stderr'>): string {
  const clean = (s: string): string =>
    s
      .split('\n')
      .filter((line) => !NOISE.some((re) => re.test(line)))
      .join('\n')
      .trim();
  const text = clean(r.stderr) || clean(r.stdout);
  return textTail(text, TAIL_CHARS);
}

/** Runs the tool and throws PackageError(code) with the command, exit status and output tail when it fails. */
export async function runTool(
  run: ToolRunner,
  code: ErrorCode,
  file: string,
  args: readonly string[],
  opts: ToolOptions,
): Promise<ToolResult> {
  const r = await run(file, args, opts);
  if (r.exitCode !== 0 || r.timedOut) throw toolError(code, file, args, r, opts.timeoutMs);
  return r;
}

export function toolError(code: ErrorCode, file: string, args: readonly string[], r: ToolResult, timeoutMs: number): PackageError {
  const how = r.timedOut ? `timed out after ${Math.round(timeoutMs / 1000)} s` : `exited ${r.exitCode}`;
  const tail = outputTail(r);
  // Twenty file paths would bury the tail; the first arguments say which command it was.
  const command = [file, ...args.slice(0, 8), ...(args.length > 8 ? ['...'] : [])].join(' ');
  return new PackageError(code, `${command} ${how}${tail ? `: ${tail}` : ''}`);
}

/**
 * Package names go on command lines after options, so one starting with `-`
 * would be read as an option; rpm and dpkg names never contain whitespace or `/`.
 */
export function checkPackageNames(names: readonly string[], code: ErrorCode): void {
  for (const name of names) {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.+~-]*$/.test(name)) {
      throw new PackageError(code, `invalid package name ${JSON.stringify(name)}`);
    }
  }
}
