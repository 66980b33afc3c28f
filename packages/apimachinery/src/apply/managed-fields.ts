/**
 * `metadata.managedFields`: who owns which fields, kept on every write the way kube-apiserver's
 * field manager (k8s.io/apiserver managedfields) keeps it.
 *
 * Managers are identified like upstream's BuildManagerIdentifier: the entry's manager name,
 * operation and subresource, plus its apiVersion for `Update` entries (an applier keeps one entry
 * whatever version it applies with; an updater gets one entry per version). Time is not part of
 * the identity.
 *
 * A non-apply write (create, update, patch; {@link updateManagedFields}) gives its manager the
 * fields that changed (added or modified) and takes them from every other manager; removed
 * fields leave every set; managers left with nothing are dropped. What kube does around that:
 *  - the request may carry managedFields: `[]` or `[{}]` resets them, a valid non-empty list
 *    replaces the stored one, anything else (absent, undecodable) keeps the stored one;
 *    subresource writes always keep the stored one;
 *  - an existing object without managedFields is not tracked by updates (that is how a reset
 *    clears them for good); creates are always tracked;
 *  - the system fields (apiVersion, kind, metadata itself, name, namespace, uid,
 *    resourceVersion, generation, creationTimestamp, selfLink, clusterName, managedFields) are
 *    never owned;
 *  - at most 10 `Update` entries: the oldest are folded into `ancient-changes` per apiVersion;
 *  - the entry's time moves only when the write changed what the manager owns;
 *  - when neither the object nor the sets changed, the stored entries (with their old times)
 *    are kept, so a no-op write does not look like a change.
 * Entries are sorted as upstream sorts them: `Apply` before `Update`, then by time, manager,
 * apiVersion, subresource.
 *
 * Objects of other API versions are not converted: every entry's fields are read as paths of
 * the version being written (upstream converts the object to each entry's version first).
 */
import { cloneJson, isJsonObject, jsonDeepEqual, type JsonObject } from '../json.js';
import type { SchemaNode, SchemaResolver } from '../schema.js';
import type { KubeObject, ManagedFieldsEntry } from '../types.js';
import { FieldSet, FieldsV1Error, TypedFields, compareStrings, excludeFields, fieldPathOf, type Comparison } from './fieldset.js';

export const LAST_APPLIED_CONFIG_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
/** Upstream's DefaultMaxUpdateManagers. */
export const DEFAULT_MAX_UPDATE_MANAGERS = 10;
/** Where capped-out `Update` entries are folded. */
export const ANCIENT_CHANGES_MANAGER = 'ancient-changes';
/** Owner of the existing fields when an object without managedFields is first applied to. */
export const BEFORE_FIRST_APPLY_MANAGER = 'before-first-apply';

/** Fields no manager ever owns (upstream's stripMeta set; `metadata` is the node itself, not its content). */
export const STRIPPED_FIELDS: FieldSet = FieldSet.of(
  fieldPathOf('apiVersion'),
  fieldPathOf('kind'),
  fieldPathOf('metadata'),
  fieldPathOf('metadata', 'name'),
  fieldPathOf('metadata', 'namespace'),
  fieldPathOf('metadata', 'creationTimestamp'),
  fieldPathOf('metadata', 'selfLink'),
  fieldPathOf('metadata', 'uid'),
  fieldPathOf('metadata', 'clusterName'),
  fieldPathOf('metadata', 'generation'),
  fieldPathOf('metadata', 'managedFields'),
  fieldPathOf('metadata', 'resourceVersion'),
);

/** One manager's ownership. */
export interface ManagerState {
  /** Manager name as written in the entry ('' when an entry had none). */
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource?: string;
  /** RFC 3339, seconds, UTC. */
  time?: string;
  set: FieldSet;
}

/** Managers by identifier (see {@link managerIdentifier}). */
export type ManagedFieldsState = Map<string, ManagerState>;

/** Raised for stored managedFields that are not valid entries (messages as upstream's decoder). */
export class ManagedFieldsDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManagedFieldsDecodeError';
  }
}

/** Upstream's manager identifier: the entry JSON without time and fields (and without apiVersion for appliers). */
export function managerIdentifier(entry: {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  subresource?: string;
}): string {
  const id: Record<string, string> = {};
  if (entry.manager) id.manager = entry.manager;
  if (entry.operation) id.operation = entry.operation;
  if (entry.operation !== 'Apply' && entry.apiVersion) id.apiVersion = entry.apiVersion;
  if (entry.subresource) id.subresource = entry.subresource;
  return JSON.stringify(id);
}

/** metav1.Time's wire form: RFC 3339 in UTC, whole seconds. */
export function formatManagedFieldsTime(date: Date): string {
  const ms = date.getTime();
  const valid = Number.isFinite(ms) ? date : new Date();
  return valid.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function normalizeTime(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? formatManagedFieldsTime(new Date(ms)) : undefined;
}

function timeSeconds(time: string | undefined): number {
  if (!time) return 0;
  const ms = Date.parse(time);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : 0;
}

/** Decodes `metadata.managedFields`. Absent or null is no managers; throws {@link ManagedFieldsDecodeError}. */
export function decodeManagedFields(entries: unknown): ManagedFieldsState {
  const state: ManagedFieldsState = new Map();
  if (entries === undefined || entries === null) return state;
  if (!Array.isArray(entries)) throw new ManagedFieldsDecodeError('managedFields must be a list');
  entries.forEach((entry, i) => {
    if (!isJsonObject(entry)) throw new ManagedFieldsDecodeError(`managed fields entry ${i} must be an object`);
    const str = (k: string): string => {
      const v = entry[k];
      if (v === undefined || v === null) return '';
      if (typeof v !== 'string') throw new ManagedFieldsDecodeError(`managed fields entry ${i}: ${k} must be a string`);
      return v;
    };
    const operation = str('operation');
    if (operation !== 'Apply' && operation !== 'Update')
      throw new ManagedFieldsDecodeError('operation must be `Apply` or `Update`');
    const apiVersion = str('apiVersion');
    if (!apiVersion) throw new ManagedFieldsDecodeError('apiVersion must not be empty');
    const fieldsType = str('fieldsType');
    if (fieldsType === '') throw new ManagedFieldsDecodeError(`missing fieldsType in managed fields entry ${i}`);
    if (fieldsType !== 'FieldsV1')
      throw new ManagedFieldsDecodeError(`invalid fieldsType ${JSON.stringify(fieldsType)} in managed fields entry ${i}`);
    const manager = str('manager');
    const subresource = str('subresource');
    let set: FieldSet;
    try {
      set = FieldSet.fromFieldsV1(entry.fieldsV1 ?? {});
    } catch (err) {
      const why = err instanceof FieldsV1Error ? err.message : String(err);
      throw new ManagedFieldsDecodeError(
        `error decoding versioned set from managed fields entry ${i}: error decoding set: ${why}`,
      );
    }
    const state_: ManagerState = { manager, operation, apiVersion, set };
    if (subresource) state_.subresource = subresource;
    const time = normalizeTime(entry.time);
    if (time) state_.time = time;
    state.set(managerIdentifier(state_), state_);
  });
  return state;
}

/** Entries in upstream's order: operation, time, manager, apiVersion, subresource. */
export function encodeManagedFields(state: ManagedFieldsState): ManagedFieldsEntry[] {
  const managers = [...state.values()].filter((m) => !m.set.isEmpty());
  managers.sort((p, q) => {
    if (p.operation !== q.operation) return compareStrings(p.operation, q.operation);
    const ps = timeSeconds(p.time);
    const qs = timeSeconds(q.time);
    if (ps !== qs) return ps < qs ? -1 : 1;
    return (
      compareStrings(p.manager, q.manager) ||
      compareStrings(p.apiVersion, q.apiVersion) ||
      compareStrings(p.subresource ?? '', q.subresource ?? '')
    );
  });
  return managers.map((m) => {
    // Key order follows metav1.ManagedFieldsEntry, as kube writes it.
    const entry: ManagedFieldsEntry = {};
    if (m.manager) entry.manager = m.manager;
    entry.operation = m.operation;
    if (m.apiVersion) entry.apiVersion = m.apiVersion;
    if (m.time) entry.time = m.time;
    entry.fieldsType = 'FieldsV1';
    entry.fieldsV1 = m.set.toFieldsV1();
    if (m.subresource) entry.subresource = m.subresource;
    return entry;
  });
}

export function cloneManagedFieldsState(state: ManagedFieldsState): ManagedFieldsState {
  const out: ManagedFieldsState = new Map();
  for (const [id, m] of state) out.set(id, { ...m });
  return out;
}

/** Drops the never-owned system fields from one manager's set (and the manager if nothing is left). */
export function stripSystemFields(state: ManagedFieldsState, id: string): void {
  const m = state.get(id);
  if (!m) return;
  const set = m.set.difference(STRIPPED_FIELDS);
  if (set.isEmpty()) state.delete(id);
  else state.set(id, { ...m, set });
}

/**
 * Folds the oldest `Update` entries into per-apiVersion `ancient-changes` entries until at most
 * `max` remain (upstream's capManagersManager).
 */
export function capUpdateManagers(state: ManagedFieldsState, max = DEFAULT_MAX_UPDATE_MANAGERS): void {
  const updaters = [...state.entries()].filter(([, m]) => m.operation === 'Update').map(([id]) => id);
  if (updaters.length <= max) return;
  updaters.sort((a, b) => {
    const as = timeSeconds(state.get(a)!.time);
    const bs = timeSeconds(state.get(b)!.time);
    if (as !== bs) return as < bs ? -1 : 1;
    return compareStrings(a, b);
  });
  const firstOfVersion = new Map<string, string>();
  let length = updaters.length;
  for (let i = 0; i < updaters.length && length > max; i++) {
    const id = updaters[i];
    const m = state.get(id);
    if (!m) continue;
    const version = m.apiVersion;
    const bucketEntry: ManagerState = {
      manager: ANCIENT_CHANGES_MANAGER,
      operation: 'Update',
      apiVersion: version,
      set: new FieldSet(),
    };
    const bucket = managerIdentifier(bucketEntry);
    const first = firstOfVersion.get(version);
    if (first === undefined) {
      firstOfVersion.set(version, id);
      continue;
    }
    if (!state.has(bucket)) {
      const firstState = state.get(first)!;
      state.delete(first);
      state.set(bucket, { ...firstState, manager: ANCIENT_CHANGES_MANAGER, operation: 'Update', apiVersion: version });
      delete state.get(bucket)!.subresource;
    }
    const current = state.get(bucket)!;
    // The merged entry takes the time of the newer update folded into it.
    state.set(bucket, { ...current, set: m.set.union(current.set), apiVersion: version, time: m.time });
    if (!m.time) delete state.get(bucket)!.time;
    state.delete(id);
    length--;
  }
}

export type OwnershipResult =
  | { state: ManagedFieldsState; comparison: Comparison; conflicts?: undefined }
  | { conflicts: Map<string, FieldSet>; state?: undefined; comparison?: undefined };

/**
 * Upstream's Updater.update: compares the object before and after a write; every manager but
 * `workflow` loses the fields the write changed (these are conflicts unless `force`) and the
 * fields it removed; managers left empty are dropped.
 */
export function updateOwnership(
  typed: TypedFields,
  root: SchemaNode | undefined,
  before: unknown,
  after: unknown,
  state: ManagedFieldsState,
  workflow: string,
  force: boolean,
  ignored: FieldSet | undefined,
): OwnershipResult {
  const comparison = excludeFields(typed.compare(before, after, root), ignored);
  const changed = comparison.modified.union(comparison.added);
  const conflicts = new Map<string, FieldSet>();
  for (const [id, m] of state) {
    if (id === workflow) continue;
    const c = m.set.intersection(changed);
    if (!c.isEmpty()) conflicts.set(id, c);
  }
  if (!force && conflicts.size > 0) return { conflicts };
  const next = cloneManagedFieldsState(state);
  for (const [id, m] of next) {
    if (id === workflow) continue;
    let set = m.set;
    const c = conflicts.get(id);
    if (c) set = set.difference(c);
    if (!comparison.removed.isEmpty()) set = set.difference(comparison.removed);
    next.set(id, { ...m, set });
  }
  for (const [id, m] of next) if (m.set.isEmpty()) next.delete(id);
  return { state: next, comparison };
}

/** The key upstream's managedFieldsUpdater uses for the write being recorded. */
const CURRENT_OPERATION = 'current-operation';

export interface RecordUpdateOptions {
  manager: string;
  apiVersion: string;
  subresource?: string;
  now: Date;
  ignoredFields?: FieldSet;
  maxUpdateManagers?: number;
}

/**
 * Records a non-apply write in `state` (returns a new state): the changed fields move to the
 * writer's `Update` entry, which is merged with its previous fields and stamped with `now`.
 */
export function recordUpdate(
  typed: TypedFields,
  root: SchemaNode | undefined,
  before: unknown,
  after: unknown,
  state: ManagedFieldsState,
  o: RecordUpdateOptions,
): ManagedFieldsState {
  const result = updateOwnership(typed, root, before, after, state, CURRENT_OPERATION, true, o.ignoredFields);
  const next = result.state!;
  const comparison = result.comparison!;
  let current = comparison.modified.union(comparison.added);
  if (o.ignoredFields) current = current.recursiveDifference(o.ignoredFields);
  current = current.difference(STRIPPED_FIELDS);
  if (!current.isEmpty()) {
    const entry: ManagerState = { manager: o.manager || 'unknown', operation: 'Update', apiVersion: o.apiVersion, set: current };
    if (o.subresource) entry.subresource = o.subresource;
    const id = managerIdentifier(entry);
    const previous = next.get(id);
    if (previous) entry.set = current.union(previous.set);
    entry.time = formatManagedFieldsTime(o.now);
    next.set(id, entry);
  }
  capUpdateManagers(next, o.maxUpdateManagers);
  return next;
}

/** A copy of an object without `metadata.managedFields`. */
export function withoutManagedFields(obj: unknown): unknown {
  if (!isJsonObject(obj)) return obj;
  const copy = cloneJson(obj);
  const meta = copy.metadata;
  if (isJsonObject(meta)) delete meta.managedFields;
  return copy;
}

function managedFieldsOf(obj: unknown): unknown {
  return isJsonObject(obj) && isJsonObject(obj.metadata) ? obj.metadata.managedFields : undefined;
}

/** `[]` or `[{}]`: the request asks to clear managedFields. */
function isResetManagedFields(entries: unknown): boolean {
  if (!Array.isArray(entries)) return false;
  if (entries.length === 0) return true;
  if (entries.length !== 1 || !isJsonObject(entries[0])) return false;
  // Go decodes into metav1.ManagedFieldsEntry: unknown keys vanish, so only the known ones count.
  const e = entries[0] as JsonObject;
  return ENTRY_FIELDS.every((k) => e[k] === undefined || e[k] === null || (k !== 'fieldsV1' && e[k] === ''));
}

const ENTRY_FIELDS = ['manager', 'operation', 'apiVersion', 'time', 'fieldsType', 'fieldsV1', 'subresource'];

function decodeOrEmpty(entries: unknown): ManagedFieldsState {
  try {
    return decodeManagedFields(entries);
  } catch {
    return new Map();
  }
}

/** Upstream's decodeLiveOrNew. */
function startingState(old: unknown, next: unknown, subresource: boolean): ManagedFieldsState {
  if (subresource) return decodeOrEmpty(managedFieldsOf(old));
  const requested = managedFieldsOf(next);
  if (isResetManagedFields(requested)) return new Map();
  try {
    const state = decodeManagedFields(requested);
    if (state.size > 0) return state;
  } catch {
    // Undecodable entries from a client are ignored in favour of the stored ones.
  }
  return decodeOrEmpty(managedFieldsOf(old));
}

/**
 * True when two entry lists differ at most in their times (upstream's
 * IgnoreManagedFieldsTimestampsTransformer compares this way).
 */
export function sameManagedFieldsIgnoringTime(a: unknown, b: unknown): boolean {
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (!isJsonObject(a[i]) || !isJsonObject(b[i])) return false;
    const x: JsonObject = { ...(a[i] as JsonObject) };
    const y: JsonObject = { ...(b[i] as JsonObject) };
    delete x.time;
    delete y.time;
    if (!jsonDeepEqual(x, y)) return false;
  }
  return true;
}

export interface UpdateManagedFieldsOptions {
  /** The stored object before the write; undefined when the write creates it. */
  old: KubeObject | undefined;
  /** The object about to be stored, as the request left it (it may carry managedFields). */
  next: KubeObject;
  /** `fieldManager`, or the user-agent-derived name; '' becomes `unknown`. */
  manager: string;
  operation?: 'Update';
  /** `status`, `scale`… for subresource writes. */
  subresource?: string;
  /** Schema of the kind (root node); undefined for untyped content. */
  schema: SchemaNode | undefined;
  resolver: SchemaResolver;
  now?: Date;
  /** apiVersion of the request (`apps/v1`). */
  apiVersion: string;
  /** Fields the endpoint resets and never gives owners (`status` on the main resource, everything but `status` on `/status`). */
  ignoredFields?: FieldSet;
  /**
   * What "nothing" looks like when the write creates the object. Upstream compares against the
   * Go zero value of the kind, in which non-pointer structs (`spec`, `template`…) already exist;
   * it only changes which containers get a `"."` entry. Default `{}` (how CRDs behave).
   */
  createBaseline?: unknown;
  maxUpdateManagers?: number;
}

/**
 * managedFields after a create, update or non-apply patch (upstream's FieldManager.UpdateNoErrors).
 * Never throws: on internal failure it returns `[]`, as upstream clears managedFields rather than
 * fail the write. An empty result means the object has no managedFields (the caller removes the
 * field); the caller stores the result as `next.metadata.managedFields`.
 *
 * Compare objects before server-set fields (resourceVersion, generation) change: a write that
 * changes nothing keeps the stored entries as they are.
 */
export function updateManagedFields(o: UpdateManagedFieldsOptions): ManagedFieldsEntry[] {
  try {
    const state = startingState(o.old, o.next, !!o.subresource);
    const oldMeta: unknown = o.old?.metadata;
    const creating = o.old === undefined || !isJsonObject(oldMeta) || !oldMeta.uid;
    if (state.size === 0 && !creating) return [];
    const before =
      o.old === undefined ? (o.createBaseline === undefined ? {} : cloneJson(o.createBaseline)) : withoutManagedFields(o.old);
    const after = withoutManagedFields(o.next);
    const typed = new TypedFields(o.resolver);
    const next = recordUpdate(typed, o.schema, before, after, state, {
      manager: o.manager,
      apiVersion: o.apiVersion,
      subresource: o.subresource,
      now: o.now ?? new Date(),
      ignoredFields: o.ignoredFields,
      maxUpdateManagers: o.maxUpdateManagers,
    });
    const entries = encodeManagedFields(next);
    const stored = managedFieldsOf(o.old);
    if (o.old !== undefined && sameManagedFieldsIgnoringTime(stored, entries) && jsonDeepEqual(before, after)) {
      return cloneJson(stored as ManagedFieldsEntry[]);
    }
    return entries;
  } catch {
    return [];
  }
}
