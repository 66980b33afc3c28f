/**
 * Read-your-writes over informer caches. Authentication reads users and login records from
 * informers (a check on every request must not call the API), but a sign-in that has just locked a
 * user, or a password change that has just cleared the uninitialized flag, must be seen by the very
 * next request. So every write the identity module makes waits until the informer has caught up
 * with the write's resourceVersion before the request that made it answers.
 */
import type { KubeObject } from '@canopy/apimachinery';
import type { Informer } from '@canopy/client';

/** How long a write waits for its informer; past this the cache is late and the write answers anyway. */
const CATCH_UP_TIMEOUT_MS = 5_000;

function revision(rv: string | undefined): bigint | undefined {
  return rv && /^\d+$/.test(rv) ? BigInt(rv) : undefined;
}

/**
 * Resolves once `informer` reflects a write that produced `resourceVersion` (its last seen
 * resourceVersion is at least that: watch events arrive in revision order). Non-numeric versions
 * (opaque to clients in general) fall back to `reflected`, a check of the cached object itself.
 */
export async function waitForInformer<T extends KubeObject>(
  informer: Informer<T>,
  resourceVersion: string | undefined,
  reflected?: () => boolean,
): Promise<void> {
  const target = revision(resourceVersion);
  const done = () => {
    if (target !== undefined) {
      const seen = revision(informer.lastResourceVersion);
      if (seen !== undefined) return seen >= target;
    }
    return reflected ? reflected() : true;
  };
  // Real timers, not the platform clock: this waits for I/O (the watch stream), not for time to pass.
  const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
  while (!done()) {
    if (Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Resolves once the informer no longer holds the object of that uid (after a delete; a new object of the same name does not count). */
export async function waitForInformerDelete<T extends KubeObject>(informer: Informer<T>, uid: string | undefined, name: string, namespace?: string): Promise<void> {
  const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
  const present = () => {
    const cached = informer.get(name, namespace);
    return cached !== undefined && (uid === undefined || cached.metadata.uid === uid);
  };
  while (present()) {
    if (Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
