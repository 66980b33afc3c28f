/**
 * The data every resource page is driven by. A `ResourceModel` says where a kind is listed,
 * watched and read, which columns, filters and actions its pages show, and what it relates to.
 * Built-in kinds have models in registry.ts; any other served resource (a CRD) gets one from
 * discovery (discovery.ts), so it has list, detail and YAML pages without code of its own.
 */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  [key: string]: unknown;
}

export interface K8sObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: any;
  status?: any;
  [key: string]: any;
}

export interface ListResult<T = K8sObject> {
  items: T[];
  totalItems: number;
}

export type Level = 'platform' | 'cluster' | 'workspace' | 'project';

/** Where a page is: the level and the cluster, workspace and project it is about. */
export interface Scope {
  level: Level;
  cluster: string;
  workspace?: string;
  namespace?: string;
}

/** How a cell is shown: plain text, a status label, a relative time, a list of labels, or a share (0–100) as a bar. */
export type CellFormat = 'text' | 'status' | 'age' | 'labels' | 'mono' | 'percent';

/** Objects joined to a row by name, by join id (see ResourceModel.joins); undefined until read or when absent. */
export type Joined = Record<string, K8sObject | undefined>;

export interface Column {
  id: string;
  /** An i18n key (`columns.*`), or the literal title of a CRD printer column (`literal`). */
  title: string;
  literal?: boolean;
  format?: CellFormat;
  value(object: K8sObject, joined?: Joined): string | number | undefined;
  /** The resources API sort key this column sorts by, if any. */
  sortBy?: 'name' | 'creationTimestamp';
}

/** A list filter with fixed choices, sent as a resources API query key. */
export interface ChoiceFilter {
  key: string;
  title: string;
  options: { value: string; title: string }[];
}

export type ActionId =
  | 'editYaml'
  | 'delete'
  | 'scale'
  /** The create form, filled with the object. */
  | 'edit'
  /** A rolling restart: the pod template's `kubectl.kubernetes.io/restartedAt` annotation. */
  | 'restart'
  /** Back to a chosen revision (a ReplicaSet's pod template), as `kubectl rollout undo --to-revision`. */
  | 'rollback'
  /** Users: disable or enable sign-in. */
  | 'toggleUser'
  | 'resetPassword'
  /** Members: another role at the same scope, or no membership. */
  | 'changeRole'
  | 'removeMember';

/**
 * Which form creates and edits a kind (components/forms): the pod-template workloads share one,
 * and so do the platform's objects of each sort.
 */
export type FormKind =
  | 'deployment'
  | 'statefulset'
  | 'daemonset'
  | 'job'
  | 'cronjob'
  | 'service'
  | 'ingress'
  | 'configmap'
  | 'secret'
  | 'persistentvolumeclaim'
  | 'workspace'
  | 'project'
  | 'user'
  | 'member'
  | 'role';

/** Extra tabs of a kind's detail page. */
export type DetailTab = 'logs' | 'terminal' | 'loginRecords' | 'roleTemplates' | 'usage';

/**
 * Objects of another resource read beside a list and joined to its rows by namespace and name
 * (a Node's NodeMetrics, a Pod's PodMetrics), for columns that show them. Such resources are
 * computed on each read and cannot be watched, so they are read again every `refreshMs`; when
 * they cannot be read (not served, forbidden) the columns show nothing and the list still works.
 */
export interface Join {
  id: string;
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
  refreshMs: number;
}

/** Objects related to one object: listed through the resources API with these query keys. */
export interface Relation {
  /** The related kind's registry key. */
  model: string;
  /** Query keys (`ownerReference`, `nodeName`, `labelSelector`…) or undefined when not applicable. */
  query(object: K8sObject): Record<string, string> | undefined;
}

/** An extra link on a detail page (a CRD's instances, a project's pages). */
export interface DetailLink {
  title: string;
  href(object: K8sObject, scope: Scope): string;
}

export interface ResourceModel {
  /** The key in URLs: the plural for built-in kinds, `plural.group` for any other. */
  key: string;
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  /** i18n key of the plural title (`kinds.*`); absent for discovered kinds, which show `kind`. */
  title?: string;
  /** role-template-rules module that decides which actions show (`deployments`, `customresources`…). */
  module: string;
  columns: Column[];
  filters?: ChoiceFilter[];
  actions: ActionId[];
  relations?: Relation[];
  /** Resources joined to rows by name for columns (`Column.value`'s second argument). */
  joins?: Join[];
  links?: DetailLink[];
  /** List endpoints to try in order (the first that exists wins); default: the resources API. */
  listPaths?(scope: Scope): string[];
  /** Extra query keys every list sends (a workspace's label selector). */
  listQuery?(scope: Scope): Record<string, string>;
  /** Where one object is read; default: its Kubernetes path. */
  getPath?(name: string, scope: Scope): string;
  /** False when the kind must not be watched through /api|/apis (User objects carry password hashes). */
  watch?: boolean;
  /** Where the list links each row; default: the generic detail page. */
  href?(object: K8sObject, scope: Scope): string;
  /** Discovered from the server rather than registered. */
  discovered?: boolean;
  /** Scale through spec.replicas. */
  scalable?: boolean;
  /** The form that creates (and edits) objects of this kind; without one, creation is by YAML only. */
  form?: FormKind;
  /**
   * Where a new object is POSTed; default: its Kubernetes collection. Platform endpoints
   * (`/kapis`) have no dry run, so their review shows the change as typed.
   */
  createPath?(scope: Scope): string;
  /** Where one object is written (PUT, DELETE) when that is not where it is read. */
  writePath?(name: string, scope: Scope): string;
  detailTabs?: DetailTab[];
}
