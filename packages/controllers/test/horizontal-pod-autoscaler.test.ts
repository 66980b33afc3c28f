/**
 * The HorizontalPodAutoscaler on a fake clock, with pod usage served through `metrics.k8s.io` by
 * a test MetricsProvider on the API server: scale-up on high CPU utilization (limited by kube's
 * rate rules), no change within the 10 % tolerance, scale-down held by the 300 s stabilization
 * window, memory averageValue targets with a behavior's rate policy, and the conditions when no
 * metrics are available.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '@canopy/apimachinery';
import { resourceType, rfc3339, types } from '@canopy/client';
import type { MetricsProvider, PodMetrics } from '@canopy/kube-apiserver';
import { horizontalPodAutoscalerController } from '../src/index.js';
import { advanceUntil, createNamespace, eventually, pod, setPodRunning, settle, startClusterWith, type ClusterUnderTest } from './cluster-support.js';

let env: ClusterUnderTest;
/** namespace/pod → container usage. */
const usage = new Map<string, { cpu: string; memory: string }>();

class TestMetrics implements MetricsProvider {
  nodeMetrics() {
    return [];
  }
  podMetrics(namespace?: string): PodMetrics[] {
    const out: PodMetrics[] = [];
    for (const [key, u] of usage) {
      const [ns, name] = key.split('/');
      if (namespace && ns !== namespace) continue;
      const labels = { app: name.replace(/-\d+$/, '') };
      out.push({ metadata: { name, namespace: ns, labels }, timestamp: rfc3339(env.clock.now()), window: '30s', containers: [{ name: 'app', usage: u }] } as PodMetrics);
    }
    return out;
  }
}

before(async () => {
  env = await startClusterWith([horizontalPodAutoscalerController]);
  env.cluster.server.setMetricsProvider(new TestMetrics());
});

after(async () => {
  await env?.close();
});

type Hpa = KubeObject & {
  status?: {
    currentReplicas?: number;
    desiredReplicas?: number;
    lastScaleTime?: string;
    currentMetrics?: Array<{ type: string; resource: { name: string; current: { averageUtilization?: number; averageValue?: string } } }>;
    conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
  };
};

function deployment(name: string, replicas: number): KubeObject {
  return {
    metadata: { name },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'nginx' }] } } },
  } as KubeObject;
}

/** Pods the (absent) ReplicaSet would have made, running and ready for ten minutes. */
async function runPods(ns: string, app: string, count: number, from = 1): Promise<void> {
  for (let i = from; i < from + count; i++) {
    const name = `${app}-${i}`;
    await env.client.create(types.pods, pod(name, { app }, {}, { resources: { requests: { cpu: '100m', memory: '100Mi' } } }), { namespace: ns });
    await setPodRunning(env.client, ns, name, `10.7.${from}.${i}`, true, env.clock.now() - 10 * 60_000);
  }
}

const replicasOf = async (ns: string, name: string) => ((await env.client.get(types.deployments, name, ns)).spec as { replicas: number }).replicas;
const condition = (h: Hpa, type: string) => h.status?.conditions?.find((c) => c.type === type);

/** One HPA sync period of the fake clock, and time for the controller to act. */
async function period(): Promise<void> {
  env.clock.advance(15_000);
  await settle(120);
}

describe('horizontal pod autoscaler', () => {
  it('scales up on high CPU utilization, holds within tolerance, and scales down only after the stabilization window', async () => {
    const ns = 'hpa-cpu';
    await createNamespace(env.client, ns);
    await env.client.create(types.deployments, deployment('web', 2), { namespace: ns });
    await runPods(ns, 'web', 2);
    for (const i of [1, 2]) usage.set(`${ns}/web-${i}`, { cpu: '100m', memory: '50Mi' });
    await env.client.create(types.horizontalPodAutoscalers, {
      metadata: { name: 'web' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 10, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
    } as KubeObject, { namespace: ns });

    // 100 % of requests against a 50 % target: twice the replicas.
    const scaled = await eventually('scaled to 4', async () => {
      const h = await env.client.get<Hpa>(types.horizontalPodAutoscalers, 'web', ns);
      return h.status?.desiredReplicas === 4 ? h : undefined;
    });
    assert.equal(await replicasOf(ns, 'web'), 4);
    assert.equal(scaled.status?.currentReplicas, 2);
    assert.ok(scaled.status?.lastScaleTime);
    assert.deepEqual(scaled.status?.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageValue: '100m', averageUtilization: 100 } } }]);
    assert.deepEqual([condition(scaled, 'AbleToScale')?.status, condition(scaled, 'AbleToScale')?.reason], ['True', 'SucceededRescale']);
    assert.equal(condition(scaled, 'AbleToScale')?.message, 'the HPA controller was able to update the target scale to 4');
    assert.deepEqual([condition(scaled, 'ScalingActive')?.status, condition(scaled, 'ScalingActive')?.reason], ['True', 'ValidMetricFound']);
    assert.equal(condition(scaled, 'ScalingActive')?.message, 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)');
    assert.deepEqual([condition(scaled, 'ScalingLimited')?.status, condition(scaled, 'ScalingLimited')?.reason], ['False', 'DesiredWithinRange']);
    const events = (await env.client.list(types.events, { namespace: ns })).items.filter((e) => (e as { reason?: string }).reason === 'SuccessfulRescale');
    assert.equal((events[0] as { message?: string }).message, 'New size: 4; reason: cpu resource utilization (percentage of request) above target');

    // The new pods run; usage settles at 54 % of requests: within the 10 % tolerance, nothing changes.
    await runPods(ns, 'web', 2, 3);
    for (const i of [1, 2, 3, 4]) usage.set(`${ns}/web-${i}`, { cpu: '54m', memory: '50Mi' });
    await advanceUntil(env.clock, 'utilization 54 % seen', async () => (await env.client.get<Hpa>(types.horizontalPodAutoscalers, 'web', ns)).status?.currentMetrics?.[0]?.resource.current.averageUtilization === 54, { stepMs: 15_000 });
    // The last recommendation of 4 replicas was made now.
    const lastHigh = env.clock.now();
    assert.equal(await replicasOf(ns, 'web'), 4);

    // Usage drops: one replica would do, but the recommendations of the last 300 s hold it at 4.
    for (const i of [1, 2, 3, 4]) usage.set(`${ns}/web-${i}`, { cpu: '10m', memory: '50Mi' });
    const held = await advanceUntil(env.clock, 'scale-down stabilized', async () => {
      const h = await env.client.get<Hpa>(types.horizontalPodAutoscalers, 'web', ns);
      return condition(h, 'AbleToScale')?.reason === 'ScaleDownStabilized' ? h : undefined;
    }, { stepMs: 15_000 });
    assert.equal(held.status?.desiredReplicas, 4);
    while (env.clock.now() + 15_000 < lastHigh + 300_000) await period();
    assert.equal(await replicasOf(ns, 'web'), 4, 'not before the window has passed');
    await advanceUntil(env.clock, 'scaled down to 1', async () => (await replicasOf(ns, 'web')) === 1, { stepMs: 15_000 });
    const down = (await env.client.list(types.events, { namespace: ns })).items.map((e) => (e as { message?: string }).message);
    assert.ok(down.includes('New size: 1; reason: All metrics below target'), down.join('; '));
  });

  it('follows a memory averageValue target, limited by the behavior’s rate policy', async () => {
    const ns = 'hpa-memory';
    await createNamespace(env.client, ns);
    await env.client.create(types.deployments, deployment('cache', 2), { namespace: ns });
    await runPods(ns, 'cache', 2);
    for (const i of [1, 2]) usage.set(`${ns}/cache-${i}`, { cpu: '5m', memory: '300Mi' });
    await env.client.create(types.horizontalPodAutoscalers, {
      metadata: { name: 'cache' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'cache' },
        minReplicas: 1,
        maxReplicas: 20,
        metrics: [{ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } }],
        behavior: { scaleUp: { policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }] } },
      },
    } as KubeObject, { namespace: ns });
    // 300Mi per pod against 100Mi wants 6; the policy allows 2 more per minute.
    const h = await eventually('scaled to 4', async () => {
      const x = await env.client.get<Hpa>(types.horizontalPodAutoscalers, 'cache', ns);
      return x.status?.desiredReplicas === 4 ? x : undefined;
    });
    // kube reports the average as a DecimalSI quantity of bytes.
    assert.equal(h.status?.currentMetrics?.[0]?.resource.current.averageValue, String(300 * 1024 * 1024));
    assert.equal(condition(h, 'ScalingLimited')?.reason, 'ScaleUpLimit');
    const scaledAt = env.clock.now();
    // Within the same minute nothing more is allowed.
    await period();
    assert.equal(await replicasOf(ns, 'cache'), 4);
    await advanceUntil(env.clock, 'two more after the period', async () => (await replicasOf(ns, 'cache')) === 6, { stepMs: 15_000 });
    assert.ok(env.clock.now() - scaledAt >= 60_000, 'not within the policy period');
  });

  it('scales an autoscaling/v1 autoscaler (what kubectl ≤ 1.29 writes), the same object as in v2', async () => {
    const ns = 'hpa-v1';
    await createNamespace(env.client, ns);
    await env.client.create(types.deployments, deployment('api', 1), { namespace: ns });
    await runPods(ns, 'api', 1);
    usage.set(`${ns}/api-1`, { cpu: '150m', memory: '10Mi' });
    const v1 = resourceType('autoscaling', 'v1', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler');
    const created = await env.client.create(v1, { metadata: { name: 'api' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' }, maxReplicas: 4, targetCPUUtilizationPercentage: 50 } } as KubeObject, { namespace: ns });
    assert.equal((created.spec as { minReplicas?: number }).minReplicas, 1, 'v1 defaults');
    // The same object in v2: the CPU target is a Resource metric.
    const asV2 = await env.client.get<KubeObject & { spec: { metrics: unknown[] } }>(types.horizontalPodAutoscalers, 'api', ns);
    assert.deepEqual(asV2.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }]);
    // 150 % against 50 %: three replicas.
    await eventually('scaled to 3', async () => (await replicasOf(ns, 'api')) === 3);
    const status = await eventually('the v1 status', async () => {
      const h = await env.client.get<KubeObject & { status?: { currentCPUUtilizationPercentage?: number; desiredReplicas?: number } }>(v1, 'api', ns);
      return h.status?.desiredReplicas === 3 ? h : undefined;
    });
    assert.equal(status.status?.currentCPUUtilizationPercentage, 150);
    // Conditions, which v1 has no field for, travel in kube's annotation.
    const conditions = JSON.parse(status.metadata.annotations?.['autoscaling.alpha.kubernetes.io/conditions'] ?? '[]') as Array<{ type: string }>;
    assert.deepEqual(conditions.map((c) => c.type).sort(), ['AbleToScale', 'ScalingActive', 'ScalingLimited']);
    // A v1 update keeps what only v2 expresses (here the conditions) intact.
    await env.client.update(v1, { ...status, spec: { ...(status.spec as object), maxReplicas: 6 } });
    const after = await env.client.get<KubeObject & { spec: { maxReplicas: number }; status?: { conditions?: unknown[] } }>(types.horizontalPodAutoscalers, 'api', ns);
    assert.equal(after.spec.maxReplicas, 6);
    assert.equal(after.status?.conditions?.length, 3);
    // v1 validation reports the internal fields, as kube does.
    await assert.rejects(
      env.client.create(v1, { metadata: { name: 'bad' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'api' }, maxReplicas: 2, targetCPUUtilizationPercentage: 0 } } as KubeObject, { namespace: ns }),
      /spec\.metrics\[0\]\.resource\.target\.averageUtilization: Invalid value: 0: must be greater than 0/,
    );
  });

  it('reports when no metrics are available', async () => {
    const ns = 'hpa-nometrics';
    await createNamespace(env.client, ns);
    await env.client.create(types.deployments, deployment('quiet', 2), { namespace: ns });
    await runPods(ns, 'quiet', 2);
    await env.client.create(types.horizontalPodAutoscalers, {
      metadata: { name: 'quiet' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'quiet' }, maxReplicas: 5 },
    } as KubeObject, { namespace: ns });
    const h = await eventually('ScalingActive False', async () => {
      const x = await env.client.get<Hpa>(types.horizontalPodAutoscalers, 'quiet', ns);
      return condition(x, 'ScalingActive')?.status === 'False' ? x : undefined;
    });
    assert.equal(condition(h, 'ScalingActive')?.reason, 'FailedGetResourceMetric');
    assert.match(condition(h, 'ScalingActive')!.message, /^the HPA was unable to compute the replica count: unable to get metrics for resource cpu/);
    assert.equal(await replicasOf(ns, 'quiet'), 2);
  });
});
