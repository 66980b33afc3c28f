import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseQuantity } from '@canopy/apimachinery';
import { types } from '@canopy/client';
import { NODE_PAUSED_ANNOTATION, podCidrFor } from '../src/index.js';
import { eventually, startSimulated, type SimulatedCluster } from './support.js';

type Obj = Record<string, any>;

describe('simulated nodes', () => {
  let c: SimulatedCluster;
  before(async () => {
    // The simulator's own identity may do nothing: each node acts as system:node:<name>.
    c = await startSimulated({ nodes: 3, user: { name: 'canopy-simulator-test', groups: ['system:authenticated'] } });
  });
  after(() => c.close());

  it('registers canopy-node-1..3 Ready with capacity, labels, zones, addresses and the server version', async () => {
    const version = await c.client.request<Obj>({ method: 'GET', path: '/version' });
    const nodes = (await c.client.list(types.nodes)).items as Obj[];
    assert.deepEqual(nodes.map((n) => n.metadata.name).sort(), ['canopy-node-1', 'canopy-node-2', 'canopy-node-3']);
    const zones = new Set<string>();
    for (const node of nodes) {
      const name = node.metadata.name;
      const index = Number(name.split('-').pop());
      assert.equal(node.metadata.labels['kubernetes.io/hostname'], name);
      assert.equal(node.metadata.labels['kubernetes.io/os'], 'linux');
      assert.equal(node.metadata.labels['kubernetes.io/arch'], 'amd64');
      assert.match(node.metadata.labels['node.kubernetes.io/instance-type'], /\S/);
      zones.add(node.metadata.labels['topology.kubernetes.io/zone']);
      assert.equal(node.spec.podCIDR, `10.42.${index}.0/24`);
      const status = node.status;
      assert.equal(status.capacity.cpu, '8');
      assert.equal(parseQuantity(status.capacity.memory).value(), 32 * 1024 ** 3);
      assert.equal(parseQuantity(status.allocatable.memory).value(), 32 * 1024 ** 3 - 100 * 1024 ** 2, 'less the eviction threshold');
      assert.equal(status.capacity.pods, '110');
      assert.ok(status.capacity['ephemeral-storage']);
      assert.equal(status.allocatable.cpu, '8');
      assert.equal(status.nodeInfo.kubeletVersion, version.gitVersion);
      assert.equal(status.nodeInfo.operatingSystem, 'linux');
      assert.match(status.nodeInfo.containerRuntimeVersion, /^containerd:\/\//);
      assert.deepEqual(
        status.addresses.map((a: Obj) => a.type),
        ['InternalIP', 'Hostname'],
      );
      assert.equal(status.daemonEndpoints.kubeletEndpoint.Port, 10250);
      const conditions = Object.fromEntries(status.conditions.map((x: Obj) => [x.type, x]));
      assert.equal(conditions.Ready.status, 'True');
      assert.equal(conditions.Ready.reason, 'KubeletReady');
      for (const type of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) assert.equal(conditions[type].status, 'False', type);
      // The kubelet wrote its own status: its manager in managedFields is the kubelet.
      assert.ok(node.metadata.managedFields.some((f: Obj) => f.manager === 'kubelet' && f.subresource === 'status'), JSON.stringify(node.metadata.managedFields.map((f: Obj) => f.manager)));
    }
    assert.equal(zones.size, 3, 'three zones');
    const events = (await c.client.list(types.events, { namespace: 'default', fieldSelector: 'involvedObject.kind=Node,involvedObject.name=canopy-node-1' })).items as Obj[];
    assert.ok(events.some((e) => e.reason === 'NodeReady' && e.source.component === 'kubelet' && e.source.host === 'canopy-node-1'));
  });

  it('renews each Lease in kube-node-lease every 10 s; a paused node stops until resumed', async () => {
    const renewTimes = async () => {
      const leases = (await c.client.list(types.leases, { namespace: 'kube-node-lease' })).items as Obj[];
      return Object.fromEntries(leases.map((l) => [l.metadata.name, Date.parse(l.spec.renewTime)]));
    };
    const first = await renewTimes();
    assert.deepEqual(Object.keys(first).sort(), ['canopy-node-1', 'canopy-node-2', 'canopy-node-3']);
    const lease = await c.client.get(types.leases, 'canopy-node-1', 'kube-node-lease');
    assert.equal((lease.spec as Obj).holderIdentity, 'canopy-node-1');
    assert.equal((lease.spec as Obj).leaseDurationSeconds, 40);
    assert.equal(lease.metadata.ownerReferences?.[0]?.kind, 'Node');
    await c.advance(10_000, 1000);
    const second = await renewTimes();
    for (const name of Object.keys(first)) assert.ok(second[name] > first[name], `${name} renewed`);

    c.sim.pauseNode('canopy-node-2');
    await c.advance(30_000, 1000);
    const third = await renewTimes();
    assert.equal(third['canopy-node-2'], second['canopy-node-2'], 'the paused node stopped renewing');
    assert.ok(third['canopy-node-1'] >= second['canopy-node-1'] + 20_000, 'the others kept renewing');

    await c.sim.resumeNode('canopy-node-2');
    const fourth = await renewTimes();
    assert.equal(fourth['canopy-node-2'], c.clock.now(), 'renewed at once on resume');
  });

  it('a Node annotated simulator.canopy.io/paused: "true" is paused until the annotation goes', async () => {
    const renewTime = async (name: string) => Date.parse(((await c.client.get(types.leases, name, 'kube-node-lease')).spec as Obj).renewTime);
    await c.client.patch(types.nodes, 'canopy-node-1', { metadata: { annotations: { [NODE_PAUSED_ANNOTATION]: 'true' } } }, 'merge');
    await eventually('node-1 paused', () => c.sim.isPaused('canopy-node-1'));
    const before = await renewTime('canopy-node-1');
    await c.advance(30_000, 1000);
    assert.equal(await renewTime('canopy-node-1'), before, 'no renewal while annotated');
    assert.ok((await renewTime('canopy-node-3')) >= before + 20_000, 'the others kept renewing');
    // Another value is not "true": the node comes back, renewing at once.
    await c.client.patch(types.nodes, 'canopy-node-1', { metadata: { annotations: { [NODE_PAUSED_ANNOTATION]: 'false' } } }, 'merge');
    await eventually('node-1 resumed', () => !c.sim.isPaused('canopy-node-1'));
    await eventually('node-1 renewed at once', async () => (await renewTime('canopy-node-1')) === c.clock.now());
    // A node paused through the API stays paused whatever happens to its annotations.
    c.sim.pauseNode('canopy-node-1');
    await c.client.patch(types.nodes, 'canopy-node-1', { metadata: { annotations: { [NODE_PAUSED_ANNOTATION]: null } } }, 'merge');
    await c.flush();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(c.sim.isPaused('canopy-node-1'), true);
    await c.sim.resumeNode('canopy-node-1');
  });

  it('posts node status every 5 min (the kubelet report frequency) with a fresh heartbeat', async () => {
    const heartbeat = async () => {
      const node = (await c.client.get(types.nodes, 'canopy-node-3')) as Obj;
      return Date.parse(node.status.conditions.find((x: Obj) => x.type === 'Ready').lastHeartbeatTime);
    };
    const before = await heartbeat();
    // Lease renewals alone (every 10 s) do not post the status.
    await c.advance(60_000, 2000);
    assert.equal(await heartbeat(), before);
    await c.advance(240_000, 5000);
    assert.ok((await heartbeat()) >= before + 290_000);
  });

  it('adds and removes nodes', async () => {
    const name = await c.sim.addNode();
    assert.equal(name, 'canopy-node-4');
    const node = (await c.client.get(types.nodes, name)) as Obj;
    assert.equal(node.spec.podCIDR, '10.42.4.0/24');
    assert.ok(await c.client.tryGet(types.leases, name, 'kube-node-lease'));
    // Removal deletes the Node as the simulator's own identity, which here may not.
    await assert.rejects(c.sim.removeNode(name), /forbidden/);
  });
});

describe('pod CIDRs', () => {
  it('gives node n 10.42.n.0/24 and skips the service CIDR 10.43.0.0/16 beyond 255 nodes', () => {
    assert.equal(podCidrFor(1), '10.42.1.0/24');
    assert.equal(podCidrFor(255), '10.42.255.0/24');
    assert.equal(podCidrFor(256), '10.44.0.0/24');
    assert.equal(podCidrFor(1000), '10.46.232.0/24');
    const all = new Set(Array.from({ length: 2000 }, (_, i) => podCidrFor(i + 1)));
    assert.equal(all.size, 2000);
    for (const cidr of all) assert.ok(!cidr.startsWith('10.43.'), cidr);
  });
});

describe('removing a node', () => {
  let c: SimulatedCluster;
  before(async () => {
    c = await startSimulated({ nodes: 1, namePrefix: 'edge' });
  });
  after(() => c.close());

  it('deletes its Lease and Node and stops its heartbeats', async () => {
    assert.deepEqual(c.sim.nodeNames(), ['edge-1']);
    const name = await c.sim.addNode();
    assert.equal(name, 'edge-2');
    await c.sim.removeNode(name);
    assert.equal(await c.client.tryGet(types.nodes, name), undefined);
    assert.equal(await c.client.tryGet(types.leases, name, 'kube-node-lease'), undefined);
    await c.advance(20_000, 2000);
    assert.equal(await c.client.tryGet(types.leases, name, 'kube-node-lease'), undefined, 'no heartbeat recreated it');
    assert.deepEqual(c.sim.nodeNames(), ['edge-1']);
  });
});
