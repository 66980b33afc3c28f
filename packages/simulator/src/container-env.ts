/**
 * What a process in a simulated container sees: its environment (as the kubelet builds it from
 * the pod spec: env and envFrom with ConfigMap and Secret keys read through the API, downward
 * API fields, resource fields, `$(VAR)` references, service links) and its file system (the
 * image's basics, the kubelet-managed /etc/hosts, resolv.conf and hostname, and the pod's volumes
 * at their mount paths, including projected ServiceAccount tokens requested through the
 * TokenRequest API).
 *
 * Values are read when the exec session starts (a kubelet reads env at container start; for a
 * simulation the difference only shows if a ConfigMap changes while a container runs).
 */
import type { KubeObject } from '@canopy/apimachinery';
import { parseQuantity } from '@canopy/apimachinery';
import { isNotFound, types, type Clock, type KubeClient } from '@canopy/client';
import { ContainerFileSystem } from './filesystem.js';
import { imageFamily, imageShells, imageVersion } from './images.js';
import type { ContainerRuntime, PodRuntime } from './pod-runtime.js';
import type { ShellHost } from './shell.js';

type Obj = Record<string, unknown>;

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const CLUSTER_DOMAIN = 'cluster.local';
const FALLBACK_DNS = '10.96.0.10';

export interface NodeFacts {
  hostIP: string;
  /** Allocatable CPU (cores) and memory (bytes): what resourceFieldRef reports without a limit. */
  allocatableCpu: number;
  allocatableMemory: number;
  kernel: string;
  machine: string;
}

function list(value: unknown): Obj[] {
  return Array.isArray(value) ? (value.filter((v) => v && typeof v === 'object') as Obj[]) : [];
}

function decode(value: unknown): string {
  return typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : '';
}

/** Reads objects through the node's client, once per session. */
class ObjectCache {
  private readonly cache = new Map<string, Promise<KubeObject | undefined>>();

  constructor(private readonly client: KubeClient) {}

  get(kind: 'configMaps' | 'secrets' | 'services', namespace: string, name: string): Promise<KubeObject | undefined> {
    const key = `${kind}/${namespace}/${name}`;
    let found = this.cache.get(key);
    if (!found) {
      found = this.client.get(types[kind], name, namespace).catch((err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
      this.cache.set(key, found);
    }
    return found;
  }
}

/** `metadata.labels['app']` and friends (kube's downward API field paths). */
function fieldValue(runtime: PodRuntime, pod: KubeObject, path: string, hostIP: string): string {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m) return (m[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations)?.[m[2]] ?? '';
  const spec = (pod.spec ?? {}) as Obj;
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'metadata.labels':
      return Object.entries(pod.metadata.labels ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).sort().join('\n');
    case 'metadata.annotations':
      return Object.entries(pod.metadata.annotations ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).sort().join('\n');
    case 'spec.nodeName':
      return String(spec.nodeName ?? '');
    case 'spec.serviceAccountName':
      return String(spec.serviceAccountName ?? '');
    case 'status.hostIP':
    case 'status.hostIPs':
      return hostIP;
    case 'status.podIP':
    case 'status.podIPs':
      return runtime.podIP ?? '';
    default:
      return '';
  }
}

/** resourceFieldRef: the limit (or request), rounded up to the divisor; allocatable when unset. */
function resourceValue(runtime: PodRuntime, ref: Obj, defaultContainer: ContainerRuntime, node: NodeFacts): string {
  const containerName = typeof ref.containerName === 'string' && ref.containerName ? ref.containerName : defaultContainer.name;
  const container = runtime.container(containerName) ?? defaultContainer;
  const resource = String(ref.resource ?? '');
  const [kind, name] = resource.split('.');
  const resources = (container.spec.resources ?? {}) as { requests?: Obj; limits?: Obj };
  const raw = (kind === 'requests' ? resources.requests : resources.limits)?.[name];
  let value: number;
  try {
    value = raw !== undefined ? parseQuantity(raw as string).asApproximateNumber() : name === 'cpu' ? (kind === 'requests' ? 0 : node.allocatableCpu) : name === 'memory' ? (kind === 'requests' ? 0 : node.allocatableMemory) : 0;
  } catch {
    value = 0;
  }
  let divisor = 1;
  try {
    if (ref.divisor !== undefined) divisor = parseQuantity(ref.divisor as string).asApproximateNumber() || 1;
  } catch {
    divisor = 1;
  }
  return String(Math.ceil(value / divisor - 1e-9));
}

/** Expands `$(VAR)` references as the kubelet does (`$$(VAR)` escapes). */
function expandReferences(value: string, env: Map<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    return name !== undefined && env.has(name) ? env.get(name)! : match;
  });
}

/** Docker-style service link variables for one service. */
function serviceVariables(service: KubeObject): Array<[string, string]> {
  const spec = (service.spec ?? {}) as Obj;
  const ip = spec.clusterIP;
  if (typeof ip !== 'string' || !ip || ip === 'None') return [];
  const ports = list(spec.ports);
  if (!ports.length) return [];
  const prefix = (service.metadata.name ?? '').toUpperCase().replace(/-/g, '_');
  const out: Array<[string, string]> = [[`${prefix}_SERVICE_HOST`, ip]];
  const first = ports[0];
  out.push([`${prefix}_SERVICE_PORT`, String(first.port)]);
  for (const p of ports) if (typeof p.name === 'string' && p.name) out.push([`${prefix}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, '_')}`, String(p.port)]);
  const proto = (p: Obj) => String(p.protocol ?? 'TCP').toLowerCase();
  out.push([`${prefix}_PORT`, `${proto(first)}://${ip}:${first.port}`]);
  for (const p of ports) {
    const base = `${prefix}_PORT_${p.port}_${String(p.protocol ?? 'TCP').toUpperCase()}`;
    out.push([base, `${proto(p)}://${ip}:${p.port}`], [`${base}_PROTO`, proto(p)], [`${base}_PORT`, String(p.port)], [`${base}_ADDR`, ip]);
  }
  return out;
}

/** Variables an image sets in its own config (a few well-known ones). */
function imageEnvironment(image: string): Array<[string, string]> {
  switch (imageFamily(image)) {
    case 'nginx':
      return [['NGINX_VERSION', imageVersion(image, '1.27.3')], ['NJS_VERSION', '0.8.7'], ['NJS_RELEASE', '1~bookworm'], ['PKG_RELEASE', '1~bookworm'], ['DYNPKG_RELEASE', '1~bookworm']];
    case 'redis':
      return [['REDIS_DOWNLOAD_URL', `http://download.redis.io/releases/redis-${imageVersion(image, '7.4.1')}.tar.gz`]];
    case 'postgres':
      return [['LANG', 'en_US.utf8'], ['PG_MAJOR', imageVersion(image, '17').split('.')[0]], ['PGDATA', '/var/lib/postgresql/data']];
    case 'httpd':
      return [['HTTPD_PREFIX', '/usr/local/apache2'], ['HTTPD_VERSION', imageVersion(image, '2.4.62')]];
    default:
      return [];
  }
}

/** The container's environment in the order `env` prints it. */
export async function containerEnvironment(client: KubeClient, runtime: PodRuntime, container: ContainerRuntime, node: NodeFacts, tty: boolean): Promise<Array<[string, string]>> {
  const pod = runtime.pod;
  const namespace = pod.metadata.namespace ?? 'default';
  const objects = new ObjectCache(client);
  const spec = (pod.spec ?? {}) as Obj;
  const env = new Map<string, string>();
  const ordered: Array<[string, string]> = [];
  const set = (k: string, v: string) => {
    if (!env.has(k)) ordered.push([k, v]);
    else ordered[ordered.findIndex(([name]) => name === k)] = [k, v];
    env.set(k, v);
  };
  set('PATH', DEFAULT_PATH);
  set('HOSTNAME', hostnameOf(pod));
  if (tty) set('TERM', 'xterm');
  for (const [k, v] of imageEnvironment(container.image)) set(k, v);

  for (const source of list(container.spec.envFrom)) {
    const prefix = typeof source.prefix === 'string' ? source.prefix : '';
    const cmRef = source.configMapRef as Obj | undefined;
    const secretRef = source.secretRef as Obj | undefined;
    if (cmRef?.name) {
      const cm = await objects.get('configMaps', namespace, String(cmRef.name));
      for (const [k, v] of Object.entries((cm?.data ?? {}) as Record<string, string>)) set(prefix + k, v);
    }
    if (secretRef?.name) {
      const secret = await objects.get('secrets', namespace, String(secretRef.name));
      for (const [k, v] of Object.entries((secret?.data ?? {}) as Record<string, string>)) set(prefix + k, decode(v));
    }
  }
  for (const entry of list(container.spec.env)) {
    const name = String(entry.name ?? '');
    if (!name) continue;
    if (typeof entry.value === 'string') {
      set(name, expandReferences(entry.value, env));
      continue;
    }
    const from = (entry.valueFrom ?? {}) as Obj;
    if (from.configMapKeyRef) {
      const ref = from.configMapKeyRef as Obj;
      const cm = await objects.get('configMaps', namespace, String(ref.name ?? ''));
      const value = ((cm?.data ?? {}) as Record<string, string>)[String(ref.key)];
      if (value !== undefined) set(name, value);
    } else if (from.secretKeyRef) {
      const ref = from.secretKeyRef as Obj;
      const secret = await objects.get('secrets', namespace, String(ref.name ?? ''));
      const value = ((secret?.data ?? {}) as Record<string, string>)[String(ref.key)];
      if (value !== undefined) set(name, decode(value));
    } else if (from.fieldRef) {
      set(name, fieldValue(runtime, pod, String((from.fieldRef as Obj).fieldPath ?? ''), node.hostIP));
    } else if (from.resourceFieldRef) {
      set(name, resourceValue(runtime, from.resourceFieldRef as Obj, container, node));
    } else {
      set(name, '');
    }
  }

  // Service links: the API server's service in every pod, the namespace's services when enabled.
  const services: KubeObject[] = [];
  const master = await objects.get('services', 'default', 'kubernetes');
  if (spec.enableServiceLinks !== false) {
    try {
      const found = await client.list(types.services, { namespace });
      services.push(...found.items.filter((s) => !(namespace === 'default' && s.metadata.name === 'kubernetes')));
    } catch {
      // Without list permission the pod simply gets no links.
    }
  }
  for (const service of services) for (const [k, v] of serviceVariables(service)) if (!env.has(k)) set(k, v);
  if (master) for (const [k, v] of serviceVariables(master)) if (!env.has(k)) set(k, v);
  const masterSpec = (master?.spec ?? {}) as Obj;
  const httpsPort = list(masterSpec.ports).find((p) => p.name === 'https');
  if (master && httpsPort && !env.has('KUBERNETES_SERVICE_PORT_HTTPS')) set('KUBERNETES_SERVICE_PORT_HTTPS', String(httpsPort.port));
  if (!env.has('HOME')) set('HOME', homeOf(userOf(runtime, container).uid, container.image));
  return ordered;
}

export function hostnameOf(pod: KubeObject): string {
  const spec = (pod.spec ?? {}) as Obj;
  return typeof spec.hostname === 'string' && spec.hostname ? spec.hostname : (pod.metadata.name ?? '');
}

/** The user the container runs as: securityContext.runAsUser (container, then pod), else the image's. */
export function userOf(runtime: PodRuntime, container: ContainerRuntime): { uid: number; gid: number; user?: string } {
  const podContext = ((runtime.pod.spec ?? {}) as Obj).securityContext as Obj | undefined;
  const context = container.spec.securityContext as Obj | undefined;
  const uid = typeof context?.runAsUser === 'number' ? context.runAsUser : typeof podContext?.runAsUser === 'number' ? podContext.runAsUser : 0;
  const gid = typeof context?.runAsGroup === 'number' ? context.runAsGroup : typeof podContext?.runAsGroup === 'number' ? podContext.runAsGroup : uid === 0 ? 0 : uid;
  const names: Record<number, string> = { 0: 'root', 65534: 'nobody' };
  if (imageFamily(container.image) === 'nginx') names[101] = 'nginx';
  if (imageFamily(container.image) === 'redis') names[999] = 'redis';
  if (imageFamily(container.image) === 'postgres') names[999] = 'postgres';
  return { uid, gid, user: names[uid] };
}

function homeOf(uid: number, image: string): string {
  if (uid === 0) return '/root';
  if (uid === 65534) return '/nonexistent';
  if (imageFamily(image) === 'nginx' && uid === 101) return '/nonexistent';
  return '/';
}

// ---- file system ---------------------------------------------------------------------------------

export interface TokenSource {
  /** A bound ServiceAccount token for the pod (TokenRequest), as the kubelet projects it. */
  token(runtime: PodRuntime, audience: string | undefined, expirationSeconds: number): Promise<string>;
}

/** Builds the container's file system: image basics, kubelet files and the pod's volumes. */
export async function containerFileSystem(client: KubeClient, runtime: PodRuntime, container: ContainerRuntime, node: NodeFacts, tokens: TokenSource): Promise<ContainerFileSystem> {
  const pod = runtime.pod;
  const namespace = pod.metadata.namespace ?? 'default';
  const objects = new ObjectCache(client);
  const fs = new ContainerFileSystem();
  for (const dir of ['bin', 'dev', 'etc', 'home', 'lib', 'media', 'mnt', 'opt', 'proc', 'root', 'run', 'sbin', 'srv', 'sys', 'tmp', 'usr/bin', 'usr/lib', 'usr/local/bin', 'usr/sbin', 'usr/share', 'var/lib', 'var/log', 'var/run', 'var/tmp']) fs.mkdirp(`/${dir}`);
  for (const program of ['sh', 'ls', 'cat', 'echo', 'env', 'hostname', 'date', 'sleep', 'ps', 'grep', 'uname', 'id', 'whoami', 'head', 'tail', 'wc', ...imageShells(container.image)]) fs.addFile(`/bin/${program}`, '\x7fELF', true);
  const hostname = hostnameOf(pod);
  const family = imageFamily(container.image);
  fs.addFile('/etc/hostname', `${hostname}\n`);
  const aliases = list(((pod.spec ?? {}) as Obj).hostAliases)
    .map((a) => `${a.ip}\t${(Array.isArray(a.hostnames) ? (a.hostnames as string[]) : []).join('\t')}`)
    .join('\n');
  const subdomain = ((pod.spec ?? {}) as Obj).subdomain;
  const fqdn = typeof subdomain === 'string' && subdomain ? `${hostname}.${subdomain}.${namespace}.svc.${CLUSTER_DOMAIN}\t${hostname}` : hostname;
  fs.addFile(
    '/etc/hosts',
    '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n' +
      `${runtime.podIP ?? node.hostIP}\t${fqdn}\n` +
      (aliases ? `\n# Entries added by HostAliases.\n${aliases}\n` : ''),
  );
  const dns = await objects.get('services', 'kube-system', 'kube-dns').catch(() => undefined);
  const master = await objects.get('services', 'default', 'kubernetes').catch(() => undefined);
  const masterIP = (master?.spec as Obj | undefined)?.clusterIP;
  // Without a DNS service, the address a cluster gives it: the tenth of the service range.
  const dnsIP =
    typeof (dns?.spec as Obj | undefined)?.clusterIP === 'string'
      ? String((dns!.spec as Obj).clusterIP)
      : typeof masterIP === 'string' && /^\d+\.\d+\.\d+\.1$/.test(masterIP)
        ? masterIP.replace(/\.1$/, '.10')
        : FALLBACK_DNS;
  fs.addFile('/etc/resolv.conf', `search ${namespace}.svc.${CLUSTER_DOMAIN} svc.${CLUSTER_DOMAIN} ${CLUSTER_DOMAIN}\nnameserver ${dnsIP}\noptions ndots:5\n`);
  const alpine = family === 'alpine' || family === 'busybox';
  fs.addFile(
    '/etc/os-release',
    alpine
      ? 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.21.0\nPRETTY_NAME="Alpine Linux v3.21"\nHOME_URL="https://alpinelinux.org/"\n'
      : 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\nHOME_URL="https://www.debian.org/"\n',
  );
  fs.addFile('/etc/passwd', `root:x:0:0:root:/root:/bin/${alpine ? 'sh' : 'bash'}\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n${family === 'nginx' ? 'nginx:x:101:101:nginx user:/nonexistent:/bin/false\n' : ''}`);
  if (family === 'nginx') {
    fs.addFile('/usr/share/nginx/html/index.html', nginxWelcomePage());
    fs.addFile('/usr/share/nginx/html/50x.html', '<!DOCTYPE html>\n<html>\n<head>\n<title>Error</title>\n</head>\n<body>\n<h1>An error occurred.</h1>\n</body>\n</html>\n');
    fs.addFile('/etc/nginx/nginx.conf', 'user  nginx;\nworker_processes  auto;\n\nerror_log  /var/log/nginx/error.log notice;\npid        /run/nginx.pid;\n\nevents {\n    worker_connections  1024;\n}\n\nhttp {\n    include       /etc/nginx/mime.types;\n    default_type  application/octet-stream;\n    sendfile        on;\n    keepalive_timeout  65;\n    include /etc/nginx/conf.d/*.conf;\n}\n');
    fs.addFile('/etc/nginx/conf.d/default.conf', 'server {\n    listen       80;\n    listen  [::]:80;\n    server_name  localhost;\n\n    location / {\n        root   /usr/share/nginx/html;\n        index  index.html index.htm;\n    }\n}\n');
  }
  const volumes = new Map(list(((pod.spec ?? {}) as Obj).volumes).map((v) => [String(v.name), v]));
  for (const mount of list(container.spec.volumeMounts)) {
    const volume = volumes.get(String(mount.name));
    const mountPath = ContainerFileSystem.resolvePath('/', String(mount.mountPath ?? '/'));
    if (!volume) continue;
    const files = await volumeFiles(volume, runtime, container, node, objects, namespace, tokens);
    const readOnly = mount.readOnly === true || files !== undefined;
    const subPath = typeof mount.subPath === 'string' && mount.subPath ? mount.subPath : undefined;
    if (subPath && files) {
      const content = files.get(subPath);
      if (content !== undefined) fs.addFile(mountPath, content, readOnly);
      else fs.mountDir(mountPath, readOnly);
      continue;
    }
    fs.mountDir(mountPath, readOnly);
    if (files) {
      for (const [path, content] of files) fs.addFile(`${mountPath}/${path}`, content, true);
      // The atomic writer's links, visible with `ls -a`.
      fs.addFile(`${mountPath}/..data`, '', true, true);
    }
  }
  return fs;
}

/** Files of a content volume (ConfigMap, Secret, downward API, projected); undefined for directories. */
async function volumeFiles(
  volume: Obj,
  runtime: PodRuntime,
  container: ContainerRuntime,
  node: NodeFacts,
  objects: ObjectCache,
  namespace: string,
  tokens: TokenSource,
): Promise<Map<string, string | (() => Promise<string>)> | undefined> {
  const files = new Map<string, string | (() => Promise<string>)>();
  const fromData = (data: Record<string, string>, items: Obj[], binary: boolean) => {
    const value = (v: string) => (binary ? decode(v) : v);
    if (items.length) {
      for (const item of items) if (data[String(item.key)] !== undefined) files.set(String(item.path), value(data[String(item.key)]));
    } else for (const [k, v] of Object.entries(data)) files.set(k, value(v));
  };
  const configMap = async (source: Obj) => {
    const cm = await objects.get('configMaps', namespace, String(source.name ?? ''));
    if (!cm) return;
    const data: Record<string, string> = { ...((cm.data ?? {}) as Record<string, string>) };
    for (const [k, v] of Object.entries((cm.binaryData ?? {}) as Record<string, string>)) data[k] = decode(v);
    fromData(data, list(source.items), false);
  };
  const secret = async (source: Obj, nameField: string) => {
    const s = await objects.get('secrets', namespace, String(source[nameField] ?? ''));
    if (s) fromData((s.data ?? {}) as Record<string, string>, list(source.items), true);
  };
  const downward = (source: Obj) => {
    for (const item of list(source.items)) {
      const path = String(item.path ?? '');
      if (item.fieldRef) files.set(path, fieldValue(runtime, runtime.pod, String((item.fieldRef as Obj).fieldPath ?? ''), node.hostIP));
      else if (item.resourceFieldRef) files.set(path, resourceValue(runtime, item.resourceFieldRef as Obj, container, node));
    }
  };
  if (volume.configMap) await configMap(volume.configMap as Obj);
  else if (volume.secret) await secret(volume.secret as Obj, 'secretName');
  else if (volume.downwardAPI) downward(volume.downwardAPI as Obj);
  else if (volume.projected) {
    for (const source of list((volume.projected as Obj).sources)) {
      if (source.configMap) await configMap(source.configMap as Obj);
      else if (source.secret) await secret(source.secret as Obj, 'name');
      else if (source.downwardAPI) downward(source.downwardAPI as Obj);
      else if (source.serviceAccountToken) {
        const t = source.serviceAccountToken as Obj;
        const expiration = typeof t.expirationSeconds === 'number' ? t.expirationSeconds : 3607;
        const audience = typeof t.audience === 'string' && t.audience ? t.audience : undefined;
        files.set(String(t.path ?? 'token'), () => tokens.token(runtime, audience, expiration));
      }
    }
  } else return undefined;
  return files;
}

export function nginxWelcomePage(): string {
  return (
    '<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n<style>\nhtml { color-scheme: light dark; }\nbody { width: 35em; margin: 0 auto;\nfont-family: Tahoma, Verdana, Arial, sans-serif; }\n</style>\n</head>\n<body>\n<h1>Welcome to nginx!</h1>\n' +
    '<p>If you see this page, the nginx web server is successfully installed and\nworking. Further configuration is required.</p>\n\n<p>For online documentation and support please refer to\n<a href="http://nginx.org/">nginx.org</a>.<br/>\nCommercial support is available at\n<a href="http://nginx.com/">nginx.com</a>.</p>\n\n<p><em>Thank you for using nginx.</em></p>\n</body>\n</html>\n'
  );
}

/** The shell's host for an exec session into `container`. */
export async function shellHost(
  client: KubeClient,
  clock: Clock,
  runtime: PodRuntime,
  container: ContainerRuntime,
  node: NodeFacts,
  tokens: TokenSource,
  tty: boolean,
  program: string,
): Promise<ShellHost> {
  const [env, fs] = await Promise.all([containerEnvironment(client, runtime, container, node, tty), containerFileSystem(client, runtime, container, node, tokens)]);
  const identity = userOf(runtime, container);
  const family = imageFamily(container.image);
  const base = program.split('/').pop() ?? program;
  const flavour = base === 'bash' ? 'bash' : family === 'busybox' || family === 'alpine' ? 'ash' : 'dash';
  return {
    clock,
    fs,
    env,
    hostname: hostnameOf(runtime.pod),
    identity,
    shells: imageShells(container.image),
    workingDir: typeof container.spec.workingDir === 'string' && container.spec.workingDir ? container.spec.workingDir : '/',
    kernel: node.kernel,
    machine: node.machine,
    mainProcess: { command: mainCommand(container), startedAt: container.current?.startedAt ?? clock.now() },
    flavour,
  };
}

/** The main process's command line (ps, OOM messages). */
export function mainCommand(container: ContainerRuntime): string {
  const command = [...(Array.isArray(container.spec.command) ? container.spec.command : []), ...(Array.isArray(container.spec.args) ? container.spec.args : [])].map(String);
  if (Array.isArray(container.spec.command) && command.length) return command.join(' ');
  switch (imageFamily(container.image)) {
    case 'nginx':
      return 'nginx: master process nginx -g daemon off;';
    case 'redis':
      return 'redis-server *:6379';
    case 'postgres':
      return 'postgres';
    case 'mysql':
      return 'mysqld';
    case 'httpd':
      return 'httpd -DFOREGROUND';
    case 'busybox':
    case 'alpine':
      return command.length ? `sh ${command.join(' ')}` : 'sh';
    default:
      return command.length ? `/app ${command.join(' ')}` : '/app';
  }
}
