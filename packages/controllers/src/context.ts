/**
 * What every controller gets: a client acting as its own identity (the `system:controller:*`
 * roles bind least privilege per controller, as in kube), the shared informers, a clock and an
 * event recorder.
 */
import type { Clock, EventRecorder, InformerFactory, KubeClient } from '@canopy/client';

export interface ControllerContext {
  /** A client acting as `system:serviceaccount:kube-system:<controller>` (or the factory's `user`). */
  client: KubeClient;
  /** Informers shared by all controllers (one cache per type). */
  informers: InformerFactory;
  /**
   * Metadata-only informers (kube's metadata informer factory: apiVersion, kind and metadata),
   * for controllers that follow every kind but read only metadata. Absent: use `informers`.
   */
  metadataInformers?: InformerFactory;
  clock: Clock;
  events: EventRecorder;
  log(message: string): void;
}

export interface Controller {
  /** kube-controller-manager's name for it, e.g. `deployment`. Also its service account (`<name>-controller`). */
  readonly name: string;
  /** Registers informer handlers; called before the informers start. */
  start(): void | Promise<void>;
  stop(): void | Promise<void>;
}

/** Builds a controller from its context; the manager gives each its own client identity. */
export interface ControllerFactory {
  /** The service account in kube-system the controller acts as (its `system:controller:<sa>` role). */
  serviceAccount?: string;
  /**
   * Or a plain user the component acts as, when kube's bootstrap policy binds its role to a user
   * rather than a service account (kube-scheduler runs as `system:kube-scheduler`).
   */
  user?: string;
  create(context: ControllerContext): Controller;
}
