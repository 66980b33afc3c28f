/**
 * A small deterministic NodeConnector for the streaming tests: fixed log lines, a shell that
 * understands `echo`, `echo … >&2`, `cat`, `env`, `stty size`, `exit N` separated by `;`, an HTTP responder on
 * port 8080 of every pod, and kubelet endpoints that answer with the node's name. The simulator
 * has the real one; this one exists so the protocol tests do not depend on it.
 */
import http from 'node:http';
import type { Duplex, Readable, Writable } from 'node:stream';
import type { KubeObject } from '@canopy/apimachinery';
import type {
  ContainerIO,
  ContainerTarget,
  ExecRequest,
  ExitStatus,
  KubeletResponse,
  LogRequest,
  MetricsProvider,
  NodeConnector,
  NodeMetrics,
  PodMetrics,
  TerminalSize,
} from '../../src/index.js';

export const LOG_START = Date.parse('2024-05-01T10:00:00Z');

/** Line i of a container's log, written at LOG_START + i seconds. */
export function logLine(container: string, i: number): string {
  return `${container} line ${i}`;
}

export class TestConnector implements NodeConnector {
  /** Lines every container has logged before a request. */
  logLines = 5;
  /** Extra lines a `follow` request gets before the container "stops". */
  followLines = 3;
  readonly execs: Array<{ target: ContainerTarget; request: ExecRequest }> = [];
  readonly resizes: TerminalSize[] = [];
  readonly forwarded: Array<{ pod: string; port: number }> = [];
  readonly proxied: Array<{ node: string; method: string; path: string; query: string }> = [];
  /** `follow` requests that ended because the client went away. */
  followsAborted = 0;
  /** A `follow` keeps writing a line per tick until the client disconnects (instead of stopping after followLines). */
  followForever = false;

  async logs(target: ContainerTarget, request: LogRequest, out: Writable, signal: AbortSignal): Promise<void> {
    if (request.previous) throw new Error(`previous terminated container "${target.container}" in pod "${target.pod.metadata.name}" not found`);
    const line = (i: number) => (request.timestamps ? `${new Date(LOG_START + i * 1000).toISOString().replace('.000Z', '.000000000Z')} ` : '') + logLine(target.container, i) + '\n';
    let indices = [...Array(this.logLines).keys()];
    if (request.sinceTime) indices = indices.filter((i) => LOG_START + i * 1000 >= Date.parse(request.sinceTime!));
    if (request.tailLines !== undefined) indices = indices.slice(Math.max(0, indices.length - request.tailLines));
    for (const i of indices) out.write(line(i));
    if (!request.follow) return;
    for (let i = this.logLines; (this.followForever || i < this.logLines + this.followLines) && !signal.aborted; i++) {
      await new Promise((resolve) => setTimeout(resolve, this.followForever ? 5 : 0));
      out.write(line(i));
    }
    if (signal.aborted) this.followsAborted++;
  }

  async exec(target: ContainerTarget, request: ExecRequest, io: ContainerIO): Promise<ExitStatus> {
    this.execs.push({ target, request });
    const sizes: TerminalSize[] = [];
    let sized: (() => void) | undefined;
    io.onResize((size) => {
      this.resizes.push(size);
      sizes.push(size);
      sized?.();
    });
    // `stty size` prints the terminal's rows and columns once the client has sent them.
    this.terminalSize = () =>
      sizes.length ? Promise.resolve(sizes[sizes.length - 1]) : new Promise<TerminalSize>((resolve) => (sized = () => resolve(sizes[sizes.length - 1])));
    const [program, ...args] = request.command;
    if (program !== 'sh' || args[0] !== '-c') {
      if (program === 'env' || program === 'hostname') return this.run(program, target, io);
      return { exitCode: 127, message: `exec: ${JSON.stringify(program)}: executable file not found in $PATH` };
    }
    return this.run(args[1] ?? '', target, io);
  }

  async attach(target: ContainerTarget, request: ExecRequest, io: ContainerIO): Promise<ExitStatus> {
    this.execs.push({ target, request });
    io.stdout?.write(`attached to ${target.container}\n`);
    if (io.stdin) for await (const chunk of io.stdin as Readable) io.stdout?.write(chunk);
    return { exitCode: 0 };
  }

  private terminalSize: () => Promise<TerminalSize> = () => Promise.resolve({ width: 0, height: 0 });

  private async run(script: string, target: ContainerTarget, io: ContainerIO): Promise<ExitStatus> {
    for (const command of script.split(';').map((c) => c.trim()).filter(Boolean)) {
      const toStderr = command.endsWith('>&2');
      const text = toStderr ? command.slice(0, -3).trim() : command;
      const [word, ...rest] = text.split(/\s+/);
      const out = toStderr ? (io.stderr ?? io.stdout) : io.stdout;
      if (word === 'echo') out?.write(rest.join(' ') + '\n');
      else if (word === 'hostname') out?.write(`${target.pod.metadata.name}\n`);
      else if (word === 'stty' && rest[0] === 'size') {
        const size = await this.terminalSize();
        out?.write(`${size.height} ${size.width}\n`);
      }
      else if (word === 'env') out?.write(`HOSTNAME=${target.pod.metadata.name}\nCONTAINER=${target.container}\n`);
      else if (word === 'cat') {
        if (io.stdin) for await (const chunk of io.stdin as Readable) out?.write(chunk);
      } else if (word === 'exit') return { exitCode: Number(rest[0] ?? 0) };
      else {
        io.stderr?.write(`sh: ${word}: not found\n`);
        return { exitCode: 127 };
      }
    }
    return { exitCode: 0 };
  }

  async portForward(pod: KubeObject, port: number, stream: Duplex): Promise<void> {
    this.forwarded.push({ pod: pod.metadata.name ?? '', port });
    if (port !== 8080) throw new Error(`failed to connect to localhost:${port} inside namespace "${pod.metadata.namespace}": connection refused`);
    // A real HTTP server on the forwarded stream, answering with the pod's name.
    stream.on('error', () => stream.destroy());
    const responder = http.createServer((req, res) => {
      let received = 0;
      req.on('data', (chunk: Buffer) => (received += chunk.length));
      req.on('end', () => {
        res.setHeader('content-type', 'text/plain');
        // A large request is answered with a large body, so both directions carry more than a SPDY window.
        res.end(`hello from ${pod.metadata.name} ${req.method} ${req.url}\n` + (received ? `received ${received} bytes\n${'y'.repeat(received)}` : ''));
      });
    });
    responder.emit('connection', stream);
  }

  async proxyNode(node: KubeObject, method: string, path: string, query: URLSearchParams): Promise<KubeletResponse> {
    this.proxied.push({ node: node.metadata.name ?? '', method, path, query: query.toString() });
    if (path === '/metrics/cadvisor') {
      return {
        status: 200,
        headers: { 'Content-Type': 'text/plain; version=0.0.4' },
        body: `# TYPE container_cpu_usage_seconds_total counter\ncontainer_cpu_usage_seconds_total{node="${node.metadata.name}"} 1.5\n`,
      };
    }
    return { status: 404, headers: { 'Content-Type': 'text/plain' }, body: '404 page not found\n' };
  }
}

export class TestMetrics implements MetricsProvider {
  constructor(private readonly now = '2024-05-01T10:00:00Z') {}

  nodeMetrics(): NodeMetrics[] {
    return ['node-a', 'node-b'].map((name, i) => ({
      metadata: { name, creationTimestamp: this.now, labels: { 'kubernetes.io/hostname': name, zone: i === 0 ? 'east' : 'west' } },
      timestamp: this.now,
      window: '20.05s',
      usage: { cpu: `${250 * (i + 1)}m`, memory: `${512 * (i + 1)}Mi` },
    }));
  }

  podMetrics(namespace?: string): PodMetrics[] {
    const all: PodMetrics[] = [
      { metadata: { name: 'web', namespace: 'default', creationTimestamp: this.now, labels: { app: 'web' } }, timestamp: this.now, window: '20.05s', containers: [{ name: 'app', usage: { cpu: '12m', memory: '34Mi' } }] },
      {
        metadata: { name: 'multi', namespace: 'default', creationTimestamp: this.now, labels: { app: 'multi' } },
        timestamp: this.now,
        window: '20.05s',
        containers: [
          { name: 'a', usage: { cpu: '5m', memory: '10Mi' } },
          { name: 'b', usage: { cpu: '7m', memory: '6Mi' } },
        ],
      },
      { metadata: { name: 'other', namespace: 'team', creationTimestamp: this.now }, timestamp: this.now, window: '20.05s', containers: [{ name: 'c', usage: { cpu: '1m', memory: '1Mi' } }] },
    ];
    return namespace ? all.filter((p) => p.metadata.namespace === namespace) : all;
  }
}
