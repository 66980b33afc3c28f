/**
 * ClusterIP and NodePort allocation for Services, as kube-apiserver's service REST does: a free
 * address from the service CIDR (10.43.0.0/16, k3s' default) and a free port from 30000–32767.
 * The set of used values is rebuilt from storage when older than a few seconds, so deleted
 * Services free their values without a separate bookkeeping table.
 */
import { errors, fieldErrors, type KubeObject } from '@canopy/apimachinery';
import { asRecord } from './object-utils.js';

const CIDR_BASE = (10 << 24) | (43 << 16);
const CIDR_SIZE = 1 << 16;
/** 10.43.0.1 is the `kubernetes` Service; 10.43.0.10 the cluster DNS (k3s convention). */
export const KUBERNETES_SERVICE_IP = '10.43.0.1';
const RESERVED = new Set([0, 1, 10, CIDR_SIZE - 1]);
const NODE_PORT_MIN = 30000;
const NODE_PORT_MAX = 32767;
const REFRESH_MS = 5000;

function ipToNumber(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

function numberToIp(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export class ServiceAllocator {
  private usedIps = new Set<number>();
  private usedPorts = new Set<number>();
  private refreshedAt = 0;

  constructor(private readonly listServices: () => KubeObject[]) {}

  private refresh(): void {
    if (Date.now() - this.refreshedAt < REFRESH_MS) return;
    this.usedIps = new Set();
    this.usedPorts = new Set();
    for (const svc of this.listServices()) {
      const spec = asRecord(svc.spec);
      const ip = typeof spec?.clusterIP === 'string' ? ipToNumber(spec.clusterIP) : undefined;
      if (ip !== undefined) this.usedIps.add(ip);
      for (const port of Array.isArray(spec?.ports) ? spec.ports : []) {
        const nodePort = asRecord(port)?.nodePort;
        if (typeof nodePort === 'number') this.usedPorts.add(nodePort);
      }
    }
    this.refreshedAt = Date.now();
  }

  /** Fills spec.clusterIP(s) and nodePorts; refuses values already taken. */
  allocate(service: KubeObject, dryRun: boolean): void {
    const spec = asRecord(service.spec);
    if (!spec) return;
    this.refresh();
    const type = spec.type ?? 'ClusterIP';
    if (type !== 'ExternalName') {
      const requested = spec.clusterIP;
      if (requested === undefined || requested === '') {
        const ip = this.freeIp();
        if (!dryRun) this.usedIps.add(ip);
        spec.clusterIP = numberToIp(ip);
      } else if (requested !== 'None') {
        const n = typeof requested === 'string' ? ipToNumber(requested) : undefined;
        if (n === undefined || ((n - CIDR_BASE) >>> 0) >= CIDR_SIZE) {
          throw errors.invalid({ group: '', resource: 'services', kind: 'Service' }, service.metadata.name ?? '', [
            fieldErrors.invalid('spec.clusterIPs', requested, 'failed to allocate IP: the provided IP is not in the valid range. The range of valid IPs is 10.43.0.0/16'),
          ]);
        }
        if (this.usedIps.has(n)) {
          throw errors.invalid({ group: '', resource: 'services', kind: 'Service' }, service.metadata.name ?? '', [
            fieldErrors.invalid('spec.clusterIPs', requested, `failed to allocate IP ${String(requested)}: provided IP is already allocated`),
          ]);
        }
        if (!dryRun) this.usedIps.add(n);
      }
      spec.clusterIPs = [spec.clusterIP];
    }
    if (type === 'NodePort' || type === 'LoadBalancer') {
      const ports = Array.isArray(spec.ports) ? spec.ports : [];
      for (const [i, raw] of ports.entries()) {
        const port = asRecord(raw);
        if (!port) continue;
        if (port.nodePort === undefined || port.nodePort === 0) {
          const p = this.freePort();
          if (!dryRun) this.usedPorts.add(p);
          port.nodePort = p;
        } else if (typeof port.nodePort === 'number') {
          if (port.nodePort < NODE_PORT_MIN || port.nodePort > NODE_PORT_MAX) {
            throw errors.invalid({ group: '', resource: 'services', kind: 'Service' }, service.metadata.name ?? '', [
              fieldErrors.invalid(`spec.ports[${i}].nodePort`, port.nodePort, `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_MIN}-${NODE_PORT_MAX}`),
            ]);
          }
          if (this.usedPorts.has(port.nodePort)) {
            throw errors.invalid({ group: '', resource: 'services', kind: 'Service' }, service.metadata.name ?? '', [
              fieldErrors.invalid(`spec.ports[${i}].nodePort`, port.nodePort, 'provided port is already allocated'),
            ]);
          }
          if (!dryRun) this.usedPorts.add(port.nodePort);
        }
      }
    }
  }

  /** A PUT that omits allocated values keeps them (kube's patchAllocatedValues). */
  carryOver(service: KubeObject, old: KubeObject): void {
    const spec = asRecord(service.spec);
    const oldSpec = asRecord(old.spec);
    if (!spec || !oldSpec) return;
    const clusterIPChanged = spec.clusterIP !== undefined && spec.clusterIP !== '' && spec.clusterIP !== oldSpec.clusterIP;
    if ((spec.clusterIP === undefined || spec.clusterIP === '') && oldSpec.clusterIP) spec.clusterIP = oldSpec.clusterIP;
    // kube's normalizeClusterIPs: a changed clusterIP with untouched clusterIPs means clusterIPs[0]
    // changes too, so validation sees (and refuses) the change instead of storing a mismatch.
    if (spec.clusterIPs === undefined || (clusterIPChanged && JSON.stringify(spec.clusterIPs) === JSON.stringify(oldSpec.clusterIPs))) {
      if (clusterIPChanged) spec.clusterIPs = [spec.clusterIP, ...(Array.isArray(oldSpec.clusterIPs) ? oldSpec.clusterIPs.slice(1) : [])];
      else if (oldSpec.clusterIPs) spec.clusterIPs = oldSpec.clusterIPs;
    }
    const oldPorts = Array.isArray(oldSpec.ports) ? oldSpec.ports.map(asRecord) : [];
    if ((spec.type === 'NodePort' || spec.type === 'LoadBalancer') && Array.isArray(spec.ports)) {
      for (const raw of spec.ports) {
        const port = asRecord(raw);
        if (!port || port.nodePort) continue;
        const match = oldPorts.find((o) => o && o.port === port.port && (o.protocol ?? 'TCP') === (port.protocol ?? 'TCP'));
        if (match?.nodePort) port.nodePort = match.nodePort;
      }
    }
  }

  private freeIp(): number {
    for (let attempt = 0; attempt < 64; attempt++) {
      const offset = 2 + Math.floor(Math.random() * (CIDR_SIZE - 3));
      if (!RESERVED.has(offset) && !this.usedIps.has(CIDR_BASE + offset)) return CIDR_BASE + offset;
    }
    for (let offset = 2; offset < CIDR_SIZE - 1; offset++) if (!RESERVED.has(offset) && !this.usedIps.has(CIDR_BASE + offset)) return CIDR_BASE + offset;
    throw errors.internal('failed to allocate a serviceIP: range is full');
  }

  private freePort(): number {
    const span = NODE_PORT_MAX - NODE_PORT_MIN + 1;
    for (let attempt = 0; attempt < 64; attempt++) {
      const p = NODE_PORT_MIN + Math.floor(Math.random() * span);
      if (!this.usedPorts.has(p)) return p;
    }
    for (let p = NODE_PORT_MIN; p <= NODE_PORT_MAX; p++) if (!this.usedPorts.has(p)) return p;
    throw errors.internal('failed to allocate a nodePort: range is full');
  }
}
