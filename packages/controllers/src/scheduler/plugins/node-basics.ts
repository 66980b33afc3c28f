/**
 * The simple per-node filters: NodeUnschedulable (spec.unschedulable unless tolerated), NodeName
 * (spec.nodeName pins the pod) and NodePorts (host ports in use).
 */
import { TAINT_NODE_UNSCHEDULABLE } from '../api.js';
import type { NodeInfo } from '../cache.js';
import { unresolvable, unschedulable, type CycleState, type FilterPlugin, type Status } from '../framework.js';
import { tolerationsTolerateTaint } from '../matching.js';

export const ERR_NODE_UNSCHEDULABLE = 'node(s) were unschedulable';
export const ERR_NODE_NAME = "node(s) didn't match the requested node name";
export const ERR_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports";

export class NodeUnschedulable implements FilterPlugin {
  readonly name = 'NodeUnschedulable';
  private readonly status = unresolvable(this.name, ERR_NODE_UNSCHEDULABLE);

  filter(state: CycleState, node: NodeInfo): Status | undefined {
    if (!node.unschedulable) return undefined;
    const tolerated = tolerationsTolerateTaint(state.podInfo.tolerations, { key: TAINT_NODE_UNSCHEDULABLE, effect: 'NoSchedule' });
    return tolerated ? undefined : this.status;
  }
}

export class NodeName implements FilterPlugin {
  readonly name = 'NodeName';
  private readonly status = unresolvable(this.name, ERR_NODE_NAME);

  filter(state: CycleState, node: NodeInfo): Status | undefined {
    const wanted = state.pod.spec?.nodeName;
    return wanted && wanted !== node.name ? this.status : undefined;
  }
}

export class NodePorts implements FilterPlugin {
  readonly name = 'NodePorts';
  private readonly status = unschedulable(this.name, ERR_NODE_PORTS);

  preFilter(state: CycleState) {
    return state.podInfo.hostPorts.length ? undefined : { skip: true };
  }

  filter(state: CycleState, node: NodeInfo): Status | undefined {
    for (const p of state.podInfo.hostPorts) if (node.portConflicts(p)) return this.status;
    return undefined;
  }
}
