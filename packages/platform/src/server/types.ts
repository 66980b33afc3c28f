/** Shapes shared by the platform's HTTP front and the modules that mount routes on it. */
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock, InformerFactory, KubeClient } from '@canopy/client';

export interface PlatformUser {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/**
 * Who a request comes from: a user, `'invalid'` for bad credentials (401), or undefined (anonymous).
 * `connection` tells where the request came from (failed Basic sign-ins leave LoginRecords with it).
 */
export type Authenticate = (headers: IncomingHttpHeaders, connection?: { sourceIp: string }) => Promise<PlatformUser | 'invalid' | undefined>;

/** The parts of a request authorization looks at (path as sent, cluster prefix removed). */
export interface PlatformRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** The `/clusters/<name>` prefix's cluster, `host` when absent. */
  cluster: string;
  user: PlatformUser;
  sourceIp: string;
}

/** Decides a request; the platform's three-scope authorizer implements it. */
export type Authorize = (request: PlatformRequest) => Promise<Decision> | Decision;

/** The decision the platform's authorization makes for a request. */
export interface Decision {
  allowed: boolean;
  reason?: string;
}

/** Where the platform reaches a cluster's API for streams that upgrade (exec, attach, port-forward). */
export interface UpgradeTarget {
  /** https://host:port of the API server. */
  server: string;
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Bearer token (the platform's service account), if no client certificate. */
  token?: () => Promise<string>;
  insecureSkipTlsVerify?: boolean;
}

/** Everything route modules get. */
export interface PlatformContext {
  /** The platform's own identity towards the cluster (cluster-admin, as ks-apiserver's). */
  client: KubeClient;
  informers: InformerFactory;
  clock: Clock;
  log(message: string): void;
  /** The authenticated user of a request (set by the authentication hook). */
  userOf(req: FastifyRequest): PlatformUser;
}

export type RouteModule = (app: FastifyInstance, context: PlatformContext) => void | Promise<void>;

declare module 'fastify' {
  interface FastifyRequest {
    platformUser?: PlatformUser;
  }
}

export type Reply = FastifyReply;
