/**
 * Events as controllers and kubelets write them (core/v1, the form `kubectl describe` and
 * `kubectl get events` show): repeats of the same event on the same object increase `count`
 * instead of creating new objects, as client-go's event correlator does.
 */
import type { KubeObject } from '@canopy/apimachinery';
import type { KubeClient } from './client.js';
import { realClock, rfc3339, type Clock } from './clock.js';
import { types } from './resource-types.js';

export interface EventSource {
  component: string;
  host?: string;
}

let eventNameSequence = Math.floor(Math.random() * 1000);

export class EventRecorder {
  private readonly recent = new Map<string, { name: string; namespace: string; count: number; first: string; at: number }>();
  private readonly clock: Clock;

  constructor(
    private readonly client: KubeClient,
    private readonly source: EventSource,
    options: { clock?: Clock; log?: (message: string) => void } = {},
  ) {
    this.clock = options.clock ?? realClock;
    this.log = options.log;
  }

  private readonly log?: (message: string) => void;

  /** Records an event; never throws (events are best effort, as in kube). */
  event(object: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string): void {
    void this.record(object, type, reason, message, fieldPath).catch((err) => this.log?.(`event ${reason} on ${object.metadata.name}: ${(err as Error).message}`));
  }

  private async record(object: KubeObject, type: string, reason: string, message: string, fieldPath?: string): Promise<void> {
    const namespace = object.metadata.namespace || 'default';
    const now = this.clock.now();
    const key = `${object.metadata.uid}|${fieldPath ?? ''}|${type}|${reason}|${message}`;
    const seen = this.recent.get(key);
    if (seen && now - seen.at < 10 * 60_000) {
      seen.count++;
      seen.at = now;
      try {
        await this.client.patch(types.events, seen.name, { count: seen.count, lastTimestamp: rfc3339(now) }, 'merge', { namespace: seen.namespace });
        return;
      } catch {
        // The event was deleted or expired: write a new one.
      }
    }
    // kube names events `<object>.<unix nanoseconds in hex>`; a process-wide sequence in the
    // sub-millisecond digits keeps names of events written within one millisecond (or one tick
    // of a fake clock) distinct, where random digits collided.
    const name = `${object.metadata.name}.${(now * 1000 + (eventNameSequence++ % 1000)).toString(16)}`;
    const stamp = rfc3339(now);
    await this.client.create(types.events, {
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: object.metadata.name,
        namespace: object.metadata.namespace,
        uid: object.metadata.uid,
        resourceVersion: object.metadata.resourceVersion,
        ...(fieldPath ? { fieldPath } : {}),
      },
      reason,
      message,
      type,
      source: { component: this.source.component, ...(this.source.host ? { host: this.source.host } : {}) },
      reportingComponent: this.source.component,
      reportingInstance: this.source.host ?? '',
      firstTimestamp: stamp,
      lastTimestamp: stamp,
      count: 1,
    });
    if (this.recent.size > 4096) this.recent.clear();
    this.recent.set(key, { name, namespace, count: 1, first: stamp, at: now });
  }
}
