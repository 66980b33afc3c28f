/**
 * The simulated container shell behind `kubectl exec` (documented in docs/simulator.md).
 *
 * Language: words with 'single' and "double" quotes and backslash escapes; `$VAR`, `${VAR}`,
 * `$?`, `$$`, `$(command)` and backquotes; `;`, `&&`, `||`, newlines, `|` pipes; redirections
 * `>`, `>>`, `2>`, `2>&1`, `<`; `NAME=value` assignments (alone, or before a command); `#`
 * comments. Control structures (if, for, while, case, functions) are not supported and say so.
 *
 * Commands: sh/bash/ash (with -c), echo, printf, env, printenv, export, unset, set, ls, cat, cd,
 * pwd, hostname, whoami, id, date, sleep, exit, true, false, uname, ps, grep, head, tail, wc,
 * which, clear, help. Anything else: `sh: NAME: not found`, exit 127.
 *
 * Interactive sessions (stdin with a TTY) print a prompt, echo what is typed and support
 * backspace, Ctrl-C (cancels the line or interrupts `sleep`), Ctrl-U and Ctrl-D; escape
 * sequences (arrow keys) are ignored. Without a TTY, stdin is read as a script line by line.
 */
import type { Readable, Writable } from 'node:stream';
import type { Clock } from '@canopy/client';
import { ContainerFileSystem, type FsNode } from './filesystem.js';

export interface ShellIdentity {
  uid: number;
  gid: number;
  /** Undefined for a uid that has no passwd entry (`whoami: unknown uid 1000`). */
  user?: string;
}

export interface ShellHost {
  clock: Clock;
  fs: ContainerFileSystem;
  /** The process environment, in order (PATH, HOSTNAME, the container's env, service links, …). */
  env: Array<[string, string]>;
  hostname: string;
  identity: ShellIdentity;
  /** Shell programs the image has (`sh`, `bash`, …). */
  shells: string[];
  /** Working directory (the container's workingDir, else /). */
  workingDir: string;
  /** `uname -r`, `uname -m`. */
  kernel: string;
  machine: string;
  /** For `ps`: the main process's command line and start time. */
  mainProcess: { command: string; startedAt: number };
  /** Style of the prompt: busybox ash (`/ # `) or bash (`root@host:/# `) or dash (`# `). */
  flavour: 'ash' | 'bash' | 'dash';
}

/** Raised by `exit`: unwinds to the session. */
class ExitRequest {
  constructor(readonly code: number) {}
}

/** Raised when a parse fails or a construct is unsupported. */
class ShellSyntaxError extends Error {}

type Segment = { t: 'lit'; s: string; quoted: boolean } | { t: 'var'; name: string; quoted: boolean } | { t: 'subst'; script: string; quoted: boolean };
type Word = Segment[];
type Token = { kind: 'word'; word: Word } | { kind: 'op'; op: string };

interface Redirect {
  op: '>' | '>>' | '2>' | '2>>' | '2>&1' | '>&2' | '<';
  target?: Word;
}

interface SimpleCommand {
  assigns: Array<[string, Word]>;
  words: Word[];
  redirects: Redirect[];
}

type ListItem = { pipeline: SimpleCommand[]; next: ';' | '&&' | '||' };

/** Where a command's output goes. */
interface Output {
  out(text: string): void | Promise<void>;
  err(text: string): void | Promise<void>;
}

interface RunContext extends Output {
  stdin?: string;
  signal: AbortSignal;
}

const OPERATORS = ['2>&1', '>&2', '2>>', '&&', '||', '>>', '2>', ';', '|', '>', '<', '\n', '&'];
const UNSUPPORTED = new Set(['if', 'then', 'else', 'elif', 'fi', 'for', 'while', 'until', 'do', 'done', 'case', 'esac', 'function', '{', '}', '(', ')', 'select']);

/** Splits a script into words and operators. */
export function tokenize(script: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let word: Word | undefined;
  const lit = (s: string, quoted: boolean) => {
    word ??= [];
    const last = word[word.length - 1];
    if (last && last.t === 'lit' && last.quoted === quoted) last.s += s;
    else word.push({ t: 'lit', s, quoted });
  };
  const endWord = () => {
    if (word) tokens.push({ kind: 'word', word });
    word = undefined;
  };
  const readDollar = (quoted: boolean): void => {
    // at script[i] === '$'
    const next = script[i + 1];
    if (next === '(') {
      const end = matchParen(script, i + 1);
      (word ??= []).push({ t: 'subst', script: script.slice(i + 2, end), quoted });
      i = end + 1;
      return;
    }
    if (next === '{') {
      const end = script.indexOf('}', i + 2);
      if (end < 0) throw new ShellSyntaxError('bad substitution');
      const name = script.slice(i + 2, end);
      if (!/^([A-Za-z_][A-Za-z0-9_]*|[?$#0-9])$/.test(name)) throw new ShellSyntaxError(`\${${name}}: bad substitution`);
      (word ??= []).push({ t: 'var', name, quoted });
      i = end + 1;
      return;
    }
    const m = /^([A-Za-z_][A-Za-z0-9_]*|[?$#0-9])/.exec(script.slice(i + 1));
    if (m) {
      (word ??= []).push({ t: 'var', name: m[1], quoted });
      i += 1 + m[1].length;
      return;
    }
    lit('$', quoted);
    i++;
  };
  while (i < script.length) {
    const ch = script[i];
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      endWord();
      i++;
      continue;
    }
    if (ch === '#' && !word) {
      while (i < script.length && script[i] !== '\n') i++;
      continue;
    }
    if (ch === '\\') {
      if (script[i + 1] === '\n') i += 2;
      else {
        lit(script[i + 1] ?? '', true);
        i += 2;
      }
      continue;
    }
    if (ch === "'") {
      const end = script.indexOf("'", i + 1);
      if (end < 0) throw new ShellSyntaxError('unterminated quoted string');
      lit(script.slice(i + 1, end), true);
      word ??= [];
      i = end + 1;
      continue;
    }
    if (ch === '"') {
      i++;
      word ??= [];
      while (i < script.length && script[i] !== '"') {
        const c = script[i];
        if (c === '\\' && i + 1 < script.length && '$`"\\\n'.includes(script[i + 1])) {
          if (script[i + 1] !== '\n') lit(script[i + 1], true);
          i += 2;
        } else if (c === '$') readDollar(true);
        else if (c === '`') {
          const end = script.indexOf('`', i + 1);
          if (end < 0) throw new ShellSyntaxError('unterminated quoted string');
          word.push({ t: 'subst', script: script.slice(i + 1, end), quoted: true });
          i = end + 1;
        } else {
          lit(c, true);
          i++;
        }
      }
      if (i >= script.length) throw new ShellSyntaxError('unterminated quoted string');
      i++;
      continue;
    }
    if (ch === '$') {
      readDollar(false);
      continue;
    }
    if (ch === '`') {
      const end = script.indexOf('`', i + 1);
      if (end < 0) throw new ShellSyntaxError('unterminated quoted string');
      (word ??= []).push({ t: 'subst', script: script.slice(i + 1, end), quoted: false });
      i = end + 1;
      continue;
    }
    const op = OPERATORS.find((o) => script.startsWith(o, i));
    // `2>` is an operator only at the start of a word.
    if (op && !(op.startsWith('2') && word)) {
      endWord();
      tokens.push({ kind: 'op', op });
      i += op.length;
      continue;
    }
    lit(ch, false);
    i++;
  }
  endWord();
  return tokens;
}

function matchParen(script: string, open: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = open; i < script.length; i++) {
    const c = script[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"') i++;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth === 0) return i;
    }
  }
  throw new ShellSyntaxError('unterminated $(');
}

function literalOf(word: Word): string | undefined {
  return word.every((s) => s.t === 'lit') ? word.map((s) => (s as { s: string }).s).join('') : undefined;
}

/** Parses tokens into a list of pipelines. */
export function parse(tokens: Token[]): ListItem[] {
  const items: ListItem[] = [];
  let pipeline: SimpleCommand[] = [];
  let command: SimpleCommand = { assigns: [], words: [], redirects: [] };
  const isEmpty = (c: SimpleCommand) => !c.assigns.length && !c.words.length && !c.redirects.length;
  const endCommand = () => {
    if (isEmpty(command)) return false;
    pipeline.push(command);
    command = { assigns: [], words: [], redirects: [] };
    return true;
  };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token.kind === 'word') {
      const text = literalOf(token.word);
      if (!command.words.length && text !== undefined && UNSUPPORTED.has(text) && !token.word.some((s) => s.t === 'lit' && s.quoted)) {
        throw new ShellSyntaxError(`"${text}" (control structures) is not supported by this simulated shell`);
      }
      const first = token.word[0];
      if (!command.words.length && first?.t === 'lit' && !first.quoted) {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(first.s);
        if (m) {
          const rest: Word = [{ ...first, s: first.s.slice(m[0].length) }, ...token.word.slice(1)];
          command.assigns.push([m[1], rest]);
          continue;
        }
      }
      command.words.push(token.word);
      continue;
    }
    const op = token.op;
    if (op === '2>&1' || op === '>&2') {
      command.redirects.push({ op });
      continue;
    }
    if (op === '>' || op === '>>' || op === '2>' || op === '2>>' || op === '<') {
      const target = tokens[i + 1];
      if (!target || target.kind !== 'word') throw new ShellSyntaxError(`unexpected ${target ? (target as { op: string }).op === '\n' ? 'newline' : `"${(target as { op: string }).op}"` : 'end of file'}`);
      command.redirects.push({ op, target: target.word });
      i++;
      continue;
    }
    if (op === '|') {
      if (!endCommand()) throw new ShellSyntaxError('unexpected "|"');
      continue;
    }
    if (op === '&') throw new ShellSyntaxError('background jobs (&) are not supported by this simulated shell');
    // ; && || newline
    const had = endCommand();
    if (!had && pipeline.length) throw new ShellSyntaxError(`unexpected "${op === '\n' ? 'newline' : op}"`);
    if (!pipeline.length) {
      if (op === '\n' || op === ';') {
        if (op === ';') throw new ShellSyntaxError('unexpected ";"');
        continue;
      }
      throw new ShellSyntaxError(`unexpected "${op}"`);
    }
    items.push({ pipeline, next: op === '&&' || op === '||' ? op : ';' });
    pipeline = [];
  }
  if (endCommand() || pipeline.length) items.push({ pipeline, next: ';' });
  else if (items.length && items[items.length - 1].next !== ';') throw new ShellSyntaxError('unexpected end of file');
  return items;
}

const BUILTIN_NAMES = [
  'sh', 'bash', 'ash', 'dash', 'echo', 'printf', 'env', 'printenv', 'export', 'unset', 'set', 'ls', 'cat', 'cd', 'pwd', 'hostname', 'whoami', 'id',
  'date', 'sleep', 'exit', 'true', 'false', 'uname', 'ps', 'grep', 'head', 'tail', 'wc', 'which', 'clear', 'help', ':',
];

export class Shell {
  private readonly vars = new Map<string, string>();
  private readonly exported = new Set<string>();
  private cwd: string;
  private status = 0;
  private readonly pid: number;
  /** The shell's name in messages (`sh: foo: not found`). */
  private name = 'sh';

  constructor(readonly host: ShellHost) {
    for (const [k, v] of host.env) {
      this.vars.set(k, v);
      this.exported.add(k);
    }
    this.cwd = host.workingDir || '/';
    this.pid = 7 + (host.mainProcess.startedAt % 50);
  }

  /**
   * What a shell does as it starts: export PWD. A program exec'd directly (`kubectl exec -- env`)
   * has no PWD in its environment, as under containerd; `sh -c env` and interactive shells do.
   */
  startShell(): void {
    if (this.vars.has('PWD')) return;
    this.vars.set('PWD', this.cwd);
    this.exported.add('PWD');
  }

  private get fs(): ContainerFileSystem {
    return this.host.fs;
  }

  /** Runs argv as exec does (no shell parsing unless argv[0] is a shell). */
  async exec(argv: string[], output: Output, signal: AbortSignal, stdin?: string): Promise<number> {
    try {
      return await this.runArgv(argv, { ...bind(output), stdin, signal });
    } catch (err) {
      if (err instanceof ExitRequest) return err.code;
      throw err;
    }
  }

  /** Whether `argv[0]` exists in the image (exec refuses to start what does not). */
  hasProgram(program: string): boolean {
    const base = program.split('/').pop() ?? program;
    if (['sh', 'bash', 'ash', 'dash'].includes(base)) return this.host.shells.includes(base);
    return BUILTIN_NAMES.includes(base) && base !== 'exit' && base !== 'cd' && base !== 'export' && base !== 'unset' && base !== 'set';
  }

  /** Runs a script (sh -c, or lines read from stdin). */
  async runScript(script: string, ctx: RunContext): Promise<number> {
    let items: ListItem[];
    try {
      items = parse(tokenize(script));
    } catch (err) {
      if (err instanceof ShellSyntaxError) {
        await ctx.err(`${this.name}: syntax error: ${err.message}\n`);
        this.status = 2;
        return 2;
      }
      throw err;
    }
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      const prev = items[i - 1];
      if (prev && prev.next === '&&' && this.status !== 0) continue;
      if (prev && prev.next === '||' && this.status === 0) continue;
      if (ctx.signal.aborted) return 130;
      this.status = await this.runPipeline(item.pipeline, ctx);
    }
    return this.status;
  }

  private async runPipeline(commands: SimpleCommand[], ctx: RunContext): Promise<number> {
    if (commands.length === 1) return this.runCommand(commands[0], ctx);
    let input = ctx.stdin;
    let code = 0;
    for (let i = 0; i < commands.length; i++) {
      const last = i === commands.length - 1;
      let captured = '';
      const stage: RunContext = last ? { ...ctx, stdin: input } : { out: (t) => void (captured += t), err: ctx.err, stdin: input, signal: ctx.signal };
      code = await this.runCommand(commands[i], stage);
      input = captured;
    }
    return code;
  }

  private async expandWord(word: Word, ctx: RunContext): Promise<string> {
    let text = '';
    for (const seg of word) {
      if (seg.t === 'lit') text += seg.s;
      else if (seg.t === 'var') text += this.variable(seg.name);
      else {
        let captured = '';
        const sub = this.fork();
        await sub.runScript(seg.script, { out: (t) => void (captured += t), err: ctx.err, signal: ctx.signal });
        text += captured.replace(/\n+$/, '');
      }
    }
    return text;
  }

  /** Expands a word into fields: unquoted expansions split on whitespace. */
  private async expandFields(word: Word, ctx: RunContext): Promise<string[]> {
    const anyUnquotedExpansion = word.some((s) => s.t !== 'lit' && !s.quoted);
    const text = await this.expandWord(word, ctx);
    if (!anyUnquotedExpansion) return [text];
    const quotedPresent = word.some((s) => s.quoted);
    const fields = text.split(/[ \t\n]+/).filter(Boolean);
    return fields.length || quotedPresent ? (fields.length ? fields : ['']) : [];
  }

  /** A subshell: a copy of this shell's variables, directory and status. */
  fork(): Shell {
    const sub = new Shell(this.host);
    sub.vars.clear();
    for (const [k, v] of this.vars) sub.vars.set(k, v);
    for (const k of this.exported) sub.exported.add(k);
    sub.cwd = this.cwd;
    sub.status = this.status;
    sub.name = this.name;
    return sub;
  }

  get directory(): string {
    return this.cwd;
  }

  private variable(name: string): string {
    if (name === '?') return String(this.status);
    if (name === '$') return String(this.pid);
    if (name === '#') return '0';
    if (name === '0') return this.name;
    return this.vars.get(name) ?? '';
  }

  private environment(): Array<[string, string]> {
    return [...this.vars].filter(([k]) => this.exported.has(k));
  }

  private async runCommand(command: SimpleCommand, ctx: RunContext): Promise<number> {
    const values: Array<[string, string]> = [];
    for (const [name, word] of command.assigns) values.push([name, await this.expandWord(word, ctx)]);
    const argv: string[] = [];
    for (const word of command.words) argv.push(...(await this.expandFields(word, ctx)));
    // Redirections: output is collected and written to the file after the command.
    let out = ctx.out;
    let err = ctx.err;
    let stdin = ctx.stdin;
    const files: Array<{ path: string; append: boolean; text: string }> = [];
    for (const r of command.redirects) {
      if (r.op === '2>&1') err = out;
      else if (r.op === '>&2') out = err;
      else {
        const target = await this.expandWord(r.target!, ctx);
        if (target === '/dev/null') {
          if (r.op === '<') stdin = '';
          else if (r.op.startsWith('2')) err = () => {};
          else out = () => {};
          continue;
        }
        const path = ContainerFileSystem.resolvePath(this.cwd, target);
        if (r.op === '<') {
          const node = this.fs.lookup(path);
          if (!node || node.type !== 'file') {
            await ctx.err(`${this.name}: can't open ${target}: no such file\n`);
            return 1;
          }
          stdin = await this.fs.read(node);
          continue;
        }
        const file = { path, append: r.op.endsWith('>>'), text: '' };
        files.push(file);
        if (r.op.startsWith('2')) err = (t) => void (file.text += t);
        else out = (t) => void (file.text += t);
      }
    }
    if (!argv.length) {
      for (const [k, v] of values) this.vars.set(k, v);
      return this.flush(files, ctx, 0);
    }
    // `NAME=value cmd`: the assignment applies to that command only.
    const saved = values.map(([k]) => [k, this.vars.get(k), this.exported.has(k)] as const);
    for (const [k, v] of values) {
      this.vars.set(k, v);
      this.exported.add(k);
    }
    try {
      const code = await this.runArgv(argv, { out, err, stdin, signal: ctx.signal });
      return await this.flush(files, ctx, code);
    } finally {
      for (const [k, v, wasExported] of saved) {
        if (v === undefined) this.vars.delete(k);
        else this.vars.set(k, v);
        if (!wasExported) this.exported.delete(k);
      }
    }
  }

  private async flush(files: Array<{ path: string; append: boolean; text: string }>, ctx: RunContext, code: number): Promise<number> {
    for (const f of files) {
      const problem = this.fs.write(f.path, f.text, f.append);
      if (problem) {
        await ctx.err(`${this.name}: ${problem}\n`);
        return 1;
      }
    }
    return code;
  }

  private async runArgv(argv: string[], ctx: RunContext): Promise<number> {
    const [program, ...args] = argv;
    const base = program.includes('/') ? (program.split('/').pop() ?? program) : program;
    if (program.includes('/') && !['/bin/', '/usr/bin/', '/sbin/', '/usr/sbin/', '/usr/local/bin/'].some((p) => program.startsWith(p))) {
      const node = this.fs.lookup(ContainerFileSystem.resolvePath(this.cwd, program));
      await ctx.err(node ? `${this.name}: ${program}: Permission denied\n` : `${this.name}: ${program}: not found\n`);
      return node ? 126 : 127;
    }
    const builtin = this.commands[base];
    if (!builtin || (['sh', 'bash', 'ash', 'dash'].includes(base) && !this.host.shells.includes(base))) {
      await ctx.err(`${this.name}: ${program}: not found\n`);
      return 127;
    }
    return builtin.call(this, args, ctx);
  }

  // ---- commands ----------------------------------------------------------------------------------

  private readonly commands: Record<string, (this: Shell, args: string[], ctx: RunContext) => Promise<number>> = {
    sh: shellCommand,
    bash: shellCommand,
    ash: shellCommand,
    dash: shellCommand,
    ':': async () => 0,
    true: async () => 0,
    false: async () => 1,
    async echo(args, ctx) {
      let newline = true;
      let escapes = false;
      while (args.length && /^-[neE]+$/.test(args[0])) {
        const flags = args.shift()!;
        if (flags.includes('n')) newline = false;
        if (flags.includes('e')) escapes = true;
        if (flags.includes('E')) escapes = false;
      }
      let text = args.join(' ');
      if (escapes || this.host.flavour !== 'bash') text = unescape(text);
      await ctx.out(text + (newline ? '\n' : ''));
      return 0;
    },
    async printf(args, ctx) {
      if (!args.length) {
        await ctx.err('printf: usage: printf format [arguments]\n');
        return 2;
      }
      const [format, ...rest] = args;
      let i = 0;
      let text = '';
      do {
        text += unescape(format).replace(/%([-0-9]*)([sdq%])/g, (_m, width: string, conv: string) => {
          if (conv === '%') return '%';
          const value = rest[i++] ?? '';
          const rendered = conv === 'd' ? String(parseInt(value, 10) || 0) : value;
          const w = parseInt(width, 10);
          if (!w) return rendered;
          return width.startsWith('-') ? rendered.padEnd(-w) : rendered.padStart(w);
        });
      } while (i < rest.length && /%[-0-9]*[sdq]/.test(format));
      await ctx.out(text);
      return 0;
    },
    async env(args, ctx) {
      const extra: Array<[string, string]> = [];
      while (args.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(args[0])) {
        const a = args.shift()!;
        const eq = a.indexOf('=');
        extra.push([a.slice(0, eq), a.slice(eq + 1)]);
      }
      if (args.length) {
        const saved = extra.map(([k]) => [k, this.vars.get(k), this.exported.has(k)] as const);
        for (const [k, v] of extra) {
          this.vars.set(k, v);
          this.exported.add(k);
        }
        try {
          return await this.runArgv(args, ctx);
        } finally {
          for (const [k, v, was] of saved) {
            if (v === undefined) this.vars.delete(k);
            else this.vars.set(k, v);
            if (!was) this.exported.delete(k);
          }
        }
      }
      const env = new Map(this.environment());
      for (const [k, v] of extra) env.set(k, v);
      await ctx.out([...env].map(([k, v]) => `${k}=${v}\n`).join(''));
      return 0;
    },
    async printenv(args, ctx) {
      if (!args.length) {
        await ctx.out(this.environment().map(([k, v]) => `${k}=${v}\n`).join(''));
        return 0;
      }
      let code = 0;
      for (const name of args) {
        const value = this.exported.has(name) ? this.vars.get(name) : undefined;
        if (value === undefined) code = 1;
        else await ctx.out(`${value}\n`);
      }
      return code;
    },
    async export(args, ctx) {
      if (!args.length || args[0] === '-p') {
        await ctx.out(this.environment().map(([k, v]) => `export ${k}='${v.replace(/'/g, `'"'"'`)}'\n`).join(''));
        return 0;
      }
      for (const a of args) {
        const eq = a.indexOf('=');
        const name = eq < 0 ? a : a.slice(0, eq);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
          await ctx.err(`${this.name}: export: ${a}: bad variable name\n`);
          return 2;
        }
        if (eq >= 0) this.vars.set(name, a.slice(eq + 1));
        this.exported.add(name);
      }
      return 0;
    },
    async unset(args) {
      for (const a of args) {
        this.vars.delete(a);
        this.exported.delete(a);
      }
      return 0;
    },
    async set(_args, ctx) {
      await ctx.out([...this.vars].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}='${v}'\n`).join(''));
      return 0;
    },
    async pwd(_args, ctx) {
      await ctx.out(`${this.cwd}\n`);
      return 0;
    },
    async cd(args, ctx) {
      const target = args[0] === undefined || args[0] === '~' ? (this.vars.get('HOME') ?? '/') : args[0] === '-' ? (this.vars.get('OLDPWD') ?? this.cwd) : args[0];
      const path = ContainerFileSystem.resolvePath(this.cwd, target);
      const node = this.fs.lookup(path);
      if (!node) {
        await ctx.err(`${this.name}: cd: can't cd to ${target}: No such file or directory\n`);
        return 2;
      }
      if (node.type !== 'dir') {
        await ctx.err(`${this.name}: cd: can't cd to ${target}: Not a directory\n`);
        return 2;
      }
      this.vars.set('OLDPWD', this.cwd);
      this.cwd = path;
      this.vars.set('PWD', path);
      return 0;
    },
    async ls(args, ctx) {
      const flags = new Set<string>();
      const paths: string[] = [];
      for (const a of args) {
        if (a.startsWith('-') && a.length > 1) for (const f of a.slice(1)) flags.add(f);
        else paths.push(a);
      }
      if (!paths.length) paths.push('.');
      let code = 0;
      const long = flags.has('l');
      const all = flags.has('a') || flags.has('A');
      const format = (name: string, node: FsNode) => {
        if (!long) return name;
        const size = node.type === 'file' && typeof node.content === 'string' ? Buffer.byteLength(node.content) : node.type === 'dir' ? 4096 : 0;
        const mode = node.type === 'dir' ? 'drwxr-xr-x' : node.readOnly ? '-rw-r--r--' : '-rw-r--r--';
        const date = new Date(this.host.mainProcess.startedAt);
        const stamp = `${MONTHS[date.getUTCMonth()]} ${String(date.getUTCDate()).padStart(2)} ${String(date.getUTCHours()).padStart(2, '0')}:${String(date.getUTCMinutes()).padStart(2, '0')}`;
        return `${mode}    1 root     root    ${String(size).padStart(9)} ${stamp} ${name}`;
      };
      const sections: string[] = [];
      for (const p of paths) {
        const path = ContainerFileSystem.resolvePath(this.cwd, p);
        const node = this.fs.lookup(path);
        if (!node) {
          await ctx.err(`ls: ${p}: No such file or directory\n`);
          code = 1;
          continue;
        }
        if (node.type === 'file') {
          sections.push(format(p, node) + '\n');
          continue;
        }
        const names = [...node.children!.entries()].filter(([n, c]) => all || (!n.startsWith('.') && !c.hidden)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        const lines = names.map(([n, c]) => format(n, c));
        if (long) lines.unshift(`total ${names.length * 4}`);
        const header = paths.length > 1 ? `${p}:\n` : '';
        sections.push(header + (lines.length ? lines.join('\n') + '\n' : ''));
      }
      await ctx.out(sections.join(paths.length > 1 ? '\n' : ''));
      return code;
    },
    async cat(args, ctx) {
      const files = args;
      if (!files.length) {
        await ctx.out(ctx.stdin ?? '');
        return 0;
      }
      let code = 0;
      for (const f of files) {
        if (f === '-') {
          await ctx.out(ctx.stdin ?? '');
          continue;
        }
        const node = this.fs.lookup(ContainerFileSystem.resolvePath(this.cwd, f));
        if (!node) {
          await ctx.err(`cat: can't open '${f}': No such file or directory\n`);
          code = 1;
        } else if (node.type === 'dir') {
          await ctx.err(`cat: read error: Is a directory\n`);
          code = 1;
        } else {
          try {
            await ctx.out(await this.fs.read(node));
          } catch (err) {
            await ctx.err(`cat: can't open '${f}': ${(err as Error).message}\n`);
            code = 1;
          }
        }
      }
      return code;
    },
    async hostname(_args, ctx) {
      await ctx.out(`${this.host.hostname}\n`);
      return 0;
    },
    async whoami(_args, ctx) {
      const { user, uid } = this.host.identity;
      if (!user) {
        await ctx.err(`whoami: unknown uid ${uid}\n`);
        return 1;
      }
      await ctx.out(`${user}\n`);
      return 0;
    },
    async id(_args, ctx) {
      const { user, uid, gid } = this.host.identity;
      const name = (n: number, s?: string) => (s ? `${n}(${s})` : String(n));
      const groups = uid === 0 ? 'groups=0(root),1(bin),2(daemon),3(sys),4(adm),6(disk),10(wheel),11(floppy),20(dialout),26(tape),27(video)' : `groups=${name(gid, gid === 0 ? 'root' : undefined)}`;
      await ctx.out(`uid=${name(uid, user)} gid=${name(gid, gid === 0 ? 'root' : undefined)} ${groups}\n`);
      return 0;
    },
    async date(args, ctx) {
      const now = new Date(this.host.clock.now());
      // Containers run in UTC unless TZ says otherwise; the simulation always reports UTC.
      const format = args.find((a) => a.startsWith('+'));
      await ctx.out((format ? strftime(format.slice(1), now) : dateString(now)) + '\n');
      return 0;
    },
    async sleep(args, ctx) {
      const seconds = args.reduce((total, a) => {
        const m = /^(\d+(?:\.\d+)?)([smhd]?)$/.exec(a);
        if (!m) return NaN;
        return total + Number(m[1]) * ({ '': 1, s: 1, m: 60, h: 3600, d: 86400 } as Record<string, number>)[m[2]];
      }, 0);
      if (!args.length || Number.isNaN(seconds)) {
        await ctx.err(`sleep: invalid number '${args[0] ?? ''}'\n`);
        return 1;
      }
      const interrupted = await waitFor(this.host.clock, seconds * 1000, ctx.signal);
      return interrupted ? 130 : 0;
    },
    async exit(args, ctx) {
      const code = args.length ? parseInt(args[0], 10) : this.status;
      if (args.length && Number.isNaN(code)) {
        await ctx.err(`${this.name}: exit: Illegal number: ${args[0]}\n`);
        throw new ExitRequest(2);
      }
      throw new ExitRequest(((code % 256) + 256) % 256);
    },
    async uname(args, ctx) {
      const parts = { s: 'Linux', n: this.host.hostname, r: this.host.kernel, v: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.0-canopy', m: this.host.machine, o: 'GNU/Linux' };
      const flags = args.join('').replace(/-/g, '');
      if (!flags) {
        await ctx.out('Linux\n');
        return 0;
      }
      const order: Array<keyof typeof parts> = flags.includes('a') ? ['s', 'n', 'r', 'v', 'm', 'o'] : (['s', 'n', 'r', 'v', 'm', 'o'] as const).filter((f) => flags.includes(f));
      await ctx.out(order.map((f) => parts[f]).join(' ') + '\n');
      return 0;
    },
    async ps(_args, ctx) {
      const main = this.host.mainProcess.command;
      await ctx.out(`PID   USER     TIME  COMMAND\n    1 root      0:00 ${main}\n${String(this.pid).padStart(5)} root      0:00 ${this.name}\n${String(this.pid + 1).padStart(5)} root      0:00 ps\n`);
      return 0;
    },
    async grep(args, ctx) {
      const flags = new Set<string>();
      const rest: string[] = [];
      for (const a of args) {
        if (a.startsWith('-') && a.length > 1 && !rest.length) for (const f of a.slice(1)) flags.add(f);
        else rest.push(a);
      }
      const [pattern, ...files] = rest;
      if (pattern === undefined) {
        await ctx.err('Usage: grep [-ivc] PATTERN [FILE]...\n');
        return 2;
      }
      let regex: RegExp;
      try {
        regex = new RegExp(flags.has('F') ? pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : pattern, flags.has('i') ? 'i' : '');
      } catch {
        await ctx.err(`grep: bad regex '${pattern}'\n`);
        return 2;
      }
      const inputs: string[] = [];
      if (!files.length) inputs.push(ctx.stdin ?? '');
      for (const f of files) {
        const node = this.fs.lookup(ContainerFileSystem.resolvePath(this.cwd, f));
        if (!node || node.type !== 'file') {
          await ctx.err(`grep: ${f}: No such file or directory\n`);
          continue;
        }
        inputs.push(await this.fs.read(node));
      }
      const matched = inputs.flatMap((text) => splitLines(text)).filter((line) => regex.test(line) !== flags.has('v'));
      await ctx.out(flags.has('c') ? `${matched.length}\n` : matched.map((l) => l + '\n').join(''));
      return matched.length ? 0 : 1;
    },
    async head(args, ctx) {
      return this.slice(args, ctx, 'head');
    },
    async tail(args, ctx) {
      return this.slice(args, ctx, 'tail');
    },
    async wc(args, ctx) {
      const flags = args.filter((a) => a.startsWith('-')).join('');
      const files = args.filter((a) => !a.startsWith('-'));
      const text = files.length ? (await Promise.all(files.map(async (f) => { const n = this.fs.lookup(ContainerFileSystem.resolvePath(this.cwd, f)); return n && n.type === 'file' ? this.fs.read(n) : ''; }))).join('') : (ctx.stdin ?? '');
      const lines = (text.match(/\n/g) ?? []).length;
      const words = text.split(/\s+/).filter(Boolean).length;
      const bytes = Buffer.byteLength(text);
      if (flags.includes('l')) await ctx.out(`${lines}\n`);
      else if (flags.includes('w')) await ctx.out(`${words}\n`);
      else if (flags.includes('c')) await ctx.out(`${bytes}\n`);
      else await ctx.out(`${String(lines).padStart(7)} ${String(words).padStart(7)} ${String(bytes).padStart(7)}\n`);
      return 0;
    },
    async which(args, ctx) {
      let code = 0;
      for (const a of args) {
        if (this.hasProgram(a)) await ctx.out(`/bin/${a}\n`);
        else code = 1;
      }
      return code;
    },
    async clear(_args, ctx) {
      await ctx.out('\x1b[H\x1b[2J');
      return 0;
    },
    async help(_args, ctx) {
      await ctx.out(
        'Canopy simulated container shell. Commands:\n' +
          BUILTIN_NAMES.filter((n) => n !== ':').sort().join(' ') +
          '\nSyntax: quotes, $VAR, $(cmd), ; && || |, > >> 2> 2>&1 <. No if/for/while.\n',
      );
      return 0;
    },
  };

  private async slice(args: string[], ctx: RunContext, which: 'head' | 'tail'): Promise<number> {
    let count = 10;
    const files: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a === '-n') count = parseInt(args[++i] ?? '10', 10);
      else if (/^-n\d+$/.test(a)) count = parseInt(a.slice(2), 10);
      else if (/^-\d+$/.test(a)) count = parseInt(a.slice(1), 10);
      else files.push(a);
    }
    let text = ctx.stdin ?? '';
    if (files.length) {
      const node = this.fs.lookup(ContainerFileSystem.resolvePath(this.cwd, files[0]));
      if (!node || node.type !== 'file') {
        await ctx.err(`${which}: ${files[0]}: No such file or directory\n`);
        return 1;
      }
      text = await this.fs.read(node);
    }
    const lines = splitLines(text);
    const picked = which === 'head' ? lines.slice(0, count) : lines.slice(Math.max(0, lines.length - count));
    await ctx.out(picked.map((l) => l + '\n').join(''));
    return 0;
  }

  // ---- sessions ----------------------------------------------------------------------------------

  /** The prompt: ash `/ # `, bash `root@host:/# `, dash `# `. */
  private prompt(): string {
    const root = this.host.identity.uid === 0;
    const sign = root ? '#' : '$';
    const home = this.vars.get('HOME');
    const where = home && home !== '/' && (this.cwd === home || this.cwd.startsWith(`${home}/`)) ? `~${this.cwd.slice(home.length)}` : this.cwd;
    if (this.host.flavour === 'bash') return `${this.host.identity.user ?? 'I have no name!'}@${this.host.hostname}:${where}${sign} `;
    if (this.host.flavour === 'dash') return `${sign} `;
    return `${where} ${sign} `;
  }

  /**
   * An interactive session over stdin. With a TTY the shell edits lines in raw mode, as ash and
   * bash do: typed characters are echoed when the shell reads them (typeahead during a command
   * appears after the next prompt), Ctrl-C interrupts a running command at once. Output uses
   * CRLF. Without a TTY each line of stdin is a command. Resolves with the exit status.
   */
  async interactive(stdin: Readable, stdout: Writable | undefined, stderr: Writable | undefined, tty: boolean, signal: AbortSignal, shellName = 'sh'): Promise<number> {
    this.name = shellName;
    this.startShell();
    const writeOut = (text: string) => writeTo(stdout, tty ? text.replace(/\r?\n/g, '\r\n') : text);
    const writeErr = (text: string) => (tty ? writeOut(text) : writeTo(stderr ?? stdout, text));
    const lines: string[] = [];
    /** Raw input not yet read by the line editor (TTY). */
    let typeahead = '';
    let buffer = '';
    let ended = false;
    let escape = 0;
    let busy = false;
    let wake: (() => void) | undefined;
    let interrupt: AbortController | undefined;
    const notify = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    /** The line editor: consumes typeahead until a line is complete (then waits for the command). */
    const edit = () => {
      while (!busy && typeahead.length && !ended) {
        const ch = typeahead[0];
        typeahead = typeahead.slice(1);
        if (escape) {
          // ESC [ ... final byte: cursor keys and other sequences are swallowed.
          if (escape === 1) escape = ch === '[' || ch === 'O' ? 2 : 0;
          else if (ch >= '@' && ch <= '~') escape = 0;
          continue;
        }
        if (ch === '\x1b') escape = 1;
        else if (ch === '\r' || ch === '\n') {
          writeOut('\n');
          lines.push(buffer);
          buffer = '';
          busy = true;
          notify();
        } else if (ch === '\x7f' || ch === '\b') {
          if (buffer.length) {
            buffer = buffer.slice(0, -1);
            writeOut('\b \b');
          }
        } else if (ch === '\x03') {
          buffer = '';
          writeOut('^C\n' + this.prompt());
        } else if (ch === '\x15') {
          writeOut('\b \b'.repeat(buffer.length));
          buffer = '';
        } else if (ch === '\x04') {
          if (!buffer.length) {
            ended = true;
            notify();
          }
        } else if (ch >= ' ') {
          buffer += ch;
          writeOut(ch);
        }
      }
    };
    const onData = (chunk: Buffer | string) => {
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      if (!tty) {
        buffer += text;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          lines.push(buffer.slice(0, nl));
          buffer = buffer.slice(nl + 1);
        }
        notify();
        return;
      }
      const ctrlC = text.indexOf('\x03');
      if (busy && ctrlC >= 0 && interrupt) {
        // SIGINT reaches the running command; what was typed ahead of it is discarded.
        interrupt.abort();
        typeahead = text.slice(ctrlC + 1);
        return;
      }
      typeahead += text;
      edit();
    };
    const onEnd = () => {
      if (!tty && buffer) lines.push(buffer);
      buffer = '';
      ended = true;
      notify();
    };
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.on('close', onEnd);
    stdin.on('error', onEnd);
    signal.addEventListener('abort', onEnd, { once: true });
    try {
      if (tty) writeOut(this.prompt());
      while (true) {
        while (!lines.length && !ended) await new Promise<void>((resolve) => (wake = resolve));
        if (!lines.length && ended) {
          if (tty && !signal.aborted) writeOut('exit\n');
          return this.status;
        }
        const line = lines.shift()!;
        busy = true;
        interrupt = new AbortController();
        const both = AbortSignal.any([signal, interrupt.signal]);
        try {
          await this.runScript(line, { out: writeOut, err: writeErr, signal: both });
          if (interrupt.signal.aborted && tty) writeOut('^C\n');
        } catch (err) {
          if (err instanceof ExitRequest) return err.code;
          throw err;
        } finally {
          interrupt = undefined;
        }
        if (signal.aborted) return 130;
        if (tty) writeOut(this.prompt());
        busy = false;
        edit();
      }
    } finally {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.off('close', onEnd);
      stdin.off('error', onEnd);
    }
  }

  /** Exposes the name used in messages (the shell program run). */
  setName(name: string): void {
    this.name = name;
  }
}

/** `sh [-c script [name [args]]] [-i]`: a nested shell (interactive only through exec). */
async function shellCommand(this: Shell, args: string[], ctx: RunContext): Promise<number> {
  const c = args.indexOf('-c');
  const sub = this.fork();
  sub.startShell();
  if (c >= 0) {
    const script = args[c + 1];
    if (script === undefined) {
      await ctx.err('sh: -c requires an argument\n');
      return 2;
    }
    try {
      return await sub.runScript(script, ctx);
    } catch (err) {
      if (err instanceof ExitRequest) return err.code;
      throw err;
    }
  }
  const file = args.find((a) => !a.startsWith('-'));
  if (file) {
    const fs = this.host.fs;
    const node = fs.lookup(ContainerFileSystem.resolvePath(this.directory, file));
    if (!node || node.type !== 'file') {
      await ctx.err(`sh: can't open '${file}': No such file or directory\n`);
      return 2;
    }
    try {
      return await sub.runScript(await fs.read(node), ctx);
    } catch (err) {
      if (err instanceof ExitRequest) return err.code;
      throw err;
    }
  }
  // A nested interactive shell reads the remaining input (here: the piped stdin, if any).
  try {
    return await sub.runScript(ctx.stdin ?? '', ctx);
  } catch (err) {
    if (err instanceof ExitRequest) return err.code;
    throw err;
  }
}

// ---- helpers -------------------------------------------------------------------------------------

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function bind(output: Output): Output {
  return { out: (t) => output.out(t), err: (t) => output.err(t) };
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function unescape(text: string): string {
  return text.replace(/\\(n|t|r|\\|a|b|e|0[0-7]{0,3}|c)/g, (_m, c: string) => {
    switch (c) {
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case '\\':
        return '\\';
      case 'a':
        return '\x07';
      case 'b':
        return '\b';
      case 'e':
        return '\x1b';
      case 'c':
        return '';
      default:
        return String.fromCharCode(parseInt(c.slice(1) || '0', 8));
    }
  });
}

/** `date`'s default format (busybox and coreutils in UTC): `Thu Jan  1 00:00:00 UTC 2026`. */
export function dateString(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

function strftime(format: string, d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return format.replace(/%([a-zA-Z%])/g, (_m, c: string) => {
    switch (c) {
      case 'Y':
        return String(d.getUTCFullYear());
      case 'm':
        return p(d.getUTCMonth() + 1);
      case 'd':
        return p(d.getUTCDate());
      case 'H':
        return p(d.getUTCHours());
      case 'M':
        return p(d.getUTCMinutes());
      case 'S':
        return p(d.getUTCSeconds());
      case 's':
        return String(Math.floor(d.getTime() / 1000));
      case 'N':
        return p(d.getUTCMilliseconds(), 3) + '000000';
      case 'F':
        return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}`;
      case 'T':
        return `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
      case 'Z':
        return 'UTC';
      case 'z':
        return '+0000';
      case 'a':
        return DAYS[d.getUTCDay()];
      case 'b':
        return MONTHS[d.getUTCMonth()];
      case '%':
        return '%';
      default:
        return `%${c}`;
    }
  });
}

function writeTo(stream: Writable | undefined, text: string): Promise<void> | void {
  if (!stream || stream.destroyed || stream.writableEnded || !text) return;
  if (stream.write(text)) return;
  return new Promise<void>((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

/** Waits on the clock; true when interrupted. */
function waitFor(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    const timer = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(false);
    }, ms);
    const onAbort = () => {
      timer.cancel();
      resolve(true);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
