/**
 * What listens on a simulated container's ports: a small HTTP/1.1 server on every declared TCP
 * containerPort. GET and HEAD answer a page naming the pod and port (nginx images answer nginx's
 * welcome page with nginx's headers, and log the request in their access log); other methods
 * answer 405. Node's HTTP server parses the requests, so keep-alive, pipelining and chunked
 * bodies behave as with a real server. A port no container declares refuses the connection
 * with the kubelet's wording.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { KubeObject } from '@canopy/apimachinery';
import { nginxWelcomePage } from './container-env.js';
import { imageFamily, imageVersion } from './images.js';
import type { ContainerRuntime, PodRuntime } from './pod-runtime.js';

type Obj = Record<string, unknown>;

export interface PortOwner {
  container: ContainerRuntime;
  port: number;
  name?: string;
}

/** The container declaring TCP `port`, if any. */
export function portOwner(runtime: PodRuntime, port: number): PortOwner | undefined {
  for (const c of [...runtime.containers, ...runtime.initContainers.filter((i) => i.sidecar)]) {
    for (const p of Array.isArray(c.spec.ports) ? (c.spec.ports as Obj[]) : []) {
      if (p.containerPort === port && (p.protocol ?? 'TCP') === 'TCP') return { container: c, port, name: typeof p.name === 'string' ? p.name : undefined };
    }
  }
  return undefined;
}

/** The kubelet's (containerd's) message when nothing listens on a port. */
export function connectionRefused(runtime: PodRuntime, port: number): Error {
  const sandbox = runtime.uid.replace(/-/g, '').slice(0, 12);
  return new Error(
    `failed to connect to localhost:${port} inside namespace "${sandbox}", IPv4: dial tcp4 127.0.0.1:${port}: connect: connection refused IPv6 dial tcp6 [::1]:${port}: connect: connection refused `,
  );
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function podPage(pod: KubeObject, owner: PortOwner, path: string): string {
  const name = escapeHtml(pod.metadata.name ?? '');
  const namespace = escapeHtml(pod.metadata.namespace ?? '');
  return (
    `<!DOCTYPE html>\n<html>\n<head><title>${name}:${owner.port}</title></head>\n<body>\n` +
    `<h1>Hello from ${name}</h1>\n<p>Pod <b>${namespace}/${name}</b>, container <b>${escapeHtml(owner.container.name)}</b>, port <b>${owner.port}</b>${owner.name ? ` (${escapeHtml(owner.name)})` : ''}.</p>\n` +
    `<p>Path: ${escapeHtml(path)}</p>\n<p>This is a simulated container in Canopy.</p>\n</body>\n</html>\n`
  );
}

export interface ResponderHooks {
  now(): number;
  /** A line for the container's log (access log lines of web servers). */
  log(owner: PortOwner, line: string): void;
}

function clfTime(ms: number): string {
  const d = new Date(ms);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** Serves HTTP on `stream` as the container owning the port would, until either side closes it. */
export function serveHttp(runtime: PodRuntime, owner: PortOwner, stream: Duplex, hooks: ResponderHooks): void {
  const family = imageFamily(owner.container.image);
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const path = req.url ?? '/';
    const pod = runtime.pod;
    let status = 200;
    let body = '';
    const headers: Record<string, string> = { date: new Date(hooks.now()).toUTCString() };
    if (family === 'nginx') headers.server = `nginx/${imageVersion(owner.container.image, '1.27.3')}`;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      status = 405;
      body = family === 'nginx' ? '<html>\r\n<head><title>405 Not Allowed</title></head>\r\n<body>\r\n<center><h1>405 Not Allowed</h1></center>\r\n</body>\r\n</html>\r\n' : 'Method Not Allowed\n';
      headers['content-type'] = 'text/html';
    } else if (path === '/healthz' || path === '/readyz' || path === '/livez') {
      body = 'ok\n';
      headers['content-type'] = 'text/plain; charset=utf-8';
    } else if (family === 'nginx' && path !== '/' && path !== '/index.html') {
      status = 404;
      body = `<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>${headers.server}</center>\r\n</body>\r\n</html>\r\n`;
      headers['content-type'] = 'text/html';
    } else {
      body = family === 'nginx' ? nginxWelcomePage() : podPage(pod, owner, path);
      headers['content-type'] = 'text/html; charset=utf-8';
    }
    const bytes = Buffer.from(body);
    headers['content-length'] = String(bytes.length);
    res.writeHead(status, headers);
    res.end(req.method === 'HEAD' ? undefined : bytes);
    req.resume();
    if (family === 'nginx' || family === 'httpd') {
      const agent = String(req.headers['user-agent'] ?? '-');
      hooks.log(owner, `127.0.0.1 - - [${clfTime(hooks.now())}] "${req.method} ${path} HTTP/${req.httpVersion}" ${status} ${req.method === 'HEAD' ? 0 : bytes.length} "-" "${agent}" "-"`);
    }
  });
  const close = () => server.close();
  stream.once('close', close);
  stream.once('error', () => stream.destroy());
  server.emit('connection', stream);
}
