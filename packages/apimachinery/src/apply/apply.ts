/**
 * Server-side apply (`PATCH` with `Content-Type: application/apply-patch+yaml`), as
 * kube-apiserver's field manager runs it on structured-merge-diff's Updater.Apply.
 *
 * The applied configuration is merged into the live object: the fields it sets win, maps merge
 * by key, associative lists by item key (`x-kubernetes-list-map-keys`), sets by value; atomic
 * lists and maps are replaced whole. The manager's `Apply` entry becomes exactly the
 * configuration's field set. Fields the manager applied last time but no longer applies are
 * removed from the object unless another manager (applier or updater) owns them too.
 *
 * Conflicts: a field the configuration changes (its value differs from the live one, or it is
 * new) that another manager owns is a conflict; the apply fails with 409 unless `force`, which
 * moves ownership to the applier. Applying the same value as another manager is not a
 * conflict: both then own the field.
 *
 * Around the merge, as upstream's manager chain does:
 *  - the configuration must have the endpoint's apiVersion and kind (400 `invalid object type`)
 *    and must not carry managedFields (400 `metadata.managedFields must be nil`); fields the
 *    schema does not declare, list items without their keys and duplicate keys are refused with
 *    upstream's 500 `failed to create typed patch object (...)`;
 *  - an existing object without managedFields first gets a `before-first-apply` `Update` entry
 *    owning everything it holds, so the first apply conflicts with what others set;
 *  - the system fields are never owned and `Update` entries are capped (see managed-fields.ts).
 *
 * Client-side apply interplay (kubectl.kubernetes.io/last-applied-configuration):
 *  - `kubectl apply` (client-side) writes with fieldManager `kubectl-client-side-apply` through
 *    ordinary create/patch requests, so that manager owns the fields through an `Update` entry;
 *    a later server-side apply by any other manager that changes those fields conflicts unless
 *    forced.
 *  - Upgrade path: when the manager is exactly `kubectl` (kubectl's server-side default) and the
 *    live object has the annotation, conflicts on fields whose live value still equals the
 *    annotation's are allowed and the apply is forced; other conflicts are reported alone.
 *  - After a successful server-side apply by `kubectl`, an existing annotation is rewritten to
 *    the applied configuration (without the annotation itself, Go JSON, trailing newline), so a
 *    later client-side apply diffs against what was applied; it is dropped when that would
 *    exceed the 256 KiB annotation budget. Other managers leave the annotation alone.
 *
 * The functions are pure: inputs are not modified; results share nothing with them.
 */
import { StatusError, errors, type StatusCause } from '../errors.js';
import { cloneJson, isJsonObject, jsonDeepEqual, type JsonObject } from '../json.js';
import type { SchemaNode, SchemaResolver } from '../schema.js';
import type { KubeObject, ManagedFieldsEntry } from '../types.js';
import {
  FieldSet,
  TypedFields,
  compareStrings,
  formatFieldPath,
  formatTypingErrors,
  type FieldPath,
  type TypingError,
} from './fieldset.js';
import {
  BEFORE_FIRST_APPLY_MANAGER,
  LAST_APPLIED_CONFIG_ANNOTATION,
  capUpdateManagers,
  cloneManagedFieldsState,
  decodeManagedFields,
  encodeManagedFields,
  formatManagedFieldsTime,
  managerIdentifier,
  recordUpdate,
  sameManagedFieldsIgnoringTime,
  stripSystemFields,
  updateOwnership,
  withoutManagedFields,
  type ManagedFieldsState,
  type ManagerState,
} from './managed-fields.js';

export interface ApplyOptions {
  /** The stored object; undefined when the apply creates it. */
  live: KubeObject | undefined;
  /** The decoded request body. */
  config: unknown;
  /** `fieldManager` (required for apply; the server refuses a missing one before calling this). */
  manager: string;
  force?: boolean;
  /** Schema of the kind (root node); undefined for untyped content. */
  schema: SchemaNode | undefined;
  resolver: SchemaResolver;
  now?: Date;
  /** apiVersion the endpoint serves (`apps/v1`); the configuration must match it. */
  apiVersion: string;
  /** Kind the endpoint serves; when given, the configuration must match it too. */
  kind?: string;
  subresource?: string;
  /** Fields the endpoint resets and never gives owners (`status` on the main resource…). */
  ignoredFields?: FieldSet;
  /** Zero value of the kind, for the `before-first-apply` entry (see updateManagedFields). */
  createBaseline?: unknown;
  maxUpdateManagers?: number;
}

/** One field another manager owns and the configuration would change. */
export interface ApplyConflict {
  manager: string;
  operation: 'Apply' | 'Update';
  /** Set for `Update` managers, whose identity includes it. */
  apiVersion?: string;
  subresource?: string;
  /** Upstream's path form: `.spec.replicas`, `.spec.template.spec.containers[name="app"].image`. */
  field: string;
  path: FieldPath;
}

export type ApplyResult =
  | {
      /** The object to store: merged, pruned, with `metadata.managedFields` set (or removed when empty). */
      object: KubeObject;
      managedFields: ManagedFieldsEntry[];
      conflicts?: undefined;
    }
  | { conflicts: ApplyConflict[]; object?: undefined; managedFields?: undefined };

/**
 * Applies a configuration. Returns the object to store, or the conflicts (turn them into the
 * 409 with {@link applyConflictError}). Throws only StatusError: 400 for a configuration of the
 * wrong kind or carrying managedFields, 500 (no reason, as upstream's untyped errors) for one
 * the schema refuses or for undecodable stored managedFields.
 */
export function applyConfiguration(o: ApplyOptions): ApplyResult {
  try {
    return apply(o);
  } catch (err) {
    throw asStatusError(err);
  }
}

/** Anything unexpected (in practice: a value nested too deep for the recursive walks) as a 500. */
function asStatusError(err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  if (err instanceof RangeError) return errors.internal('server-side apply: object nesting is too deep');
  return errors.internal(err instanceof Error ? err.message : String(err));
}

function apply(o: ApplyOptions): ApplyResult {
  const config = decodeConfig(o.config);
  checkKind(config, o);
  if (isJsonObject(config.metadata) && Array.isArray(config.metadata.managedFields)) {
    throw errors.badRequest('metadata.managedFields must be nil');
  }
  const typed = new TypedFields(o.resolver);
  const root = o.schema;
  const now = o.now ?? new Date();
  const live = (o.live === undefined ? {} : withoutManagedFields(o.live)) as JsonObject;

  let state: ManagedFieldsState;
  try {
    state = decodeManagedFields(o.live?.metadata?.managedFields);
  } catch (err) {
    throw untypedError(500, `failed to decode managed fields: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (state.size === 0 && o.live !== undefined) {
    const baseline = o.createBaseline === undefined ? {} : cloneJson(o.createBaseline);
    state = recordUpdate(typed, root, baseline, live, state, {
      manager: BEFORE_FIRST_APPLY_MANAGER,
      apiVersion: o.apiVersion,
      subresource: o.subresource,
      now,
      ignoredFields: o.ignoredFields,
      maxUpdateManagers: o.maxUpdateManagers,
    });
  }

  const applier: ManagerState = {
    manager: o.manager || 'unknown',
    operation: 'Apply',
    apiVersion: o.apiVersion,
    set: new FieldSet(),
  };
  if (o.subresource) applier.subresource = o.subresource;
  const applierId = managerIdentifier(applier);

  const typingErrors: TypingError[] = [];
  const configSet = typed.fieldSet(config, root, typingErrors);
  if (typingErrors.length > 0) throw typedPatchError(config, typingErrors);

  const run = (force: boolean) =>
    applyOnce(typed, root, live, config, configSet, state, applierId, applier, force, o.ignoredFields);
  let outcome = run(!!o.force);
  if (outcome.conflicts && o.manager === 'kubectl') {
    const allowed = allowedConflictsFromLastApplied(typed, root, live, o.live);
    if (allowed) {
      const remaining = new Map<string, FieldSet>();
      for (const [id, set] of outcome.conflicts) {
        const rest = set.difference(allowed);
        if (!rest.isEmpty()) remaining.set(id, rest);
      }
      outcome = remaining.size > 0 ? { conflicts: remaining } : run(true);
    }
  }
  if (outcome.conflicts) return { conflicts: listConflicts(outcome.conflicts, state) };

  const next = outcome.state;
  const object = outcome.object;
  stripSystemFields(next, applierId);
  const entry = next.get(applierId);
  if (outcome.changed && entry) next.set(applierId, { ...entry, time: formatManagedFieldsTime(now) });
  capUpdateManagers(next, o.maxUpdateManagers);

  if (o.manager === 'kubectl' && hasLastApplied(object)) setLastApplied(object, buildLastApplied(config));

  let managedFields = encodeManagedFields(next);
  const stored = o.live?.metadata?.managedFields;
  if (o.live !== undefined && sameManagedFieldsIgnoringTime(stored, managedFields) && jsonDeepEqual(object, live)) {
    // Nothing but times changed: keep the stored entries so the write is a no-op.
    managedFields = cloneJson(stored as ManagedFieldsEntry[]);
  }
  if (isJsonObject(object.metadata)) {
    if (managedFields.length > 0) object.metadata.managedFields = managedFields;
    else delete object.metadata.managedFields;
  } else if (managedFields.length > 0) {
    object.metadata = { managedFields };
  }
  return { object: object as KubeObject, managedFields: cloneJson(managedFields) };
}

type ApplyOnceOutcome =
  | { conflicts: Map<string, FieldSet>; object?: undefined; state?: undefined; changed?: undefined }
  | { conflicts?: undefined; object: JsonObject; state: ManagedFieldsState; changed: boolean };

/** Updater.Apply: merge, replace the applier's set, prune what it dropped, then settle ownership. */
function applyOnce(
  typed: TypedFields,
  root: SchemaNode | undefined,
  live: JsonObject,
  config: JsonObject,
  configSet: FieldSet,
  state: ManagedFieldsState,
  applierId: string,
  applier: ManagerState,
  force: boolean,
  ignored: FieldSet | undefined,
): ApplyOnceOutcome {
  const merged = typed.merge(live, config, root);
  const working = cloneManagedFieldsState(state);
  const last = working.get(applierId);
  const entry: ManagerState = { ...applier, set: ignored ? configSet.recursiveDifference(ignored) : configSet };
  if (last?.time) entry.time = last.time;
  working.set(applierId, entry);
  const pruned = prune(typed, root, merged, working, last?.set);
  const result = updateOwnership(typed, root, live, pruned, working, applierId, force, ignored);
  if (result.conflicts) return { conflicts: result.conflicts };
  const changed = !jsonDeepEqual(live, pruned);
  const object = cloneJson(isJsonObject(changed ? pruned : live) ? (changed ? pruned : live) : {}) as JsonObject;
  return { object, state: result.state, changed };
}

/**
 * Removes what the applier owned last time and no longer applies, unless some manager (the
 * applier's new configuration included) owns it. Struct fields count as owned when anything
 * below them is, so emptied structs go too (upstream's prune, addBackOwnedItems,
 * addBackDanglingItems).
 */
function prune(
  typed: TypedFields,
  root: SchemaNode | undefined,
  merged: unknown,
  state: ManagedFieldsState,
  lastSet: FieldSet | undefined,
): unknown {
  if (!lastSet || lastSet.isEmpty()) return merged;
  const named = (s: FieldSet) => typed.ensureNamedFieldsAreMembers(s, root);
  const setOf = (v: unknown) => named(typed.fieldSet(v, root));
  const last = named(lastSet);
  const removed = typed.removeItems(merged, last, root) ?? {};
  let owned = new FieldSet();
  for (const m of state.values()) owned = owned.union(m.set);
  const mergedSet = setOf(merged);
  const withOwned = typed.removeItems(merged, mergedSet.difference(setOf(removed).union(named(owned))), root) ?? {};
  return typed.removeItems(merged, mergedSet.difference(setOf(withOwned)).intersection(last), root) ?? {};
}

/** Fields of the last client-side-applied configuration whose live value is still the applied one. */
function allowedConflictsFromLastApplied(
  typed: TypedFields,
  root: SchemaNode | undefined,
  live: JsonObject,
  rawLive: KubeObject | undefined,
): FieldSet | undefined {
  const text = rawLive?.metadata?.annotations?.[LAST_APPLIED_CONFIG_ANNOTATION];
  if (typeof text !== 'string' || text === '') return undefined;
  let lastApplied: unknown;
  try {
    lastApplied = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isJsonObject(lastApplied)) return undefined;
  const problems: TypingError[] = [];
  const lastSet = typed.fieldSet(lastApplied, root, problems);
  if (problems.length > 0) return undefined;
  const c = typed.compare(lastApplied, live, root);
  return lastSet.difference(c.modified).difference(c.added).difference(c.removed);
}

function listConflicts(conflicts: Map<string, FieldSet>, state: ManagedFieldsState): ApplyConflict[] {
  const out: ApplyConflict[] = [];
  for (const id of [...conflicts.keys()].sort(compareStrings)) {
    const m = state.get(id);
    if (!m) continue;
    for (const path of conflicts.get(id)!.paths()) {
      out.push({
        manager: m.manager,
        operation: m.operation,
        ...(m.operation === 'Update' ? { apiVersion: m.apiVersion } : {}),
        ...(m.subresource ? { subresource: m.subresource } : {}),
        field: formatFieldPath(path),
        path,
      });
    }
  }
  return out;
}

/** How upstream names a manager in conflict messages: `"kubectl"`, `"kube-controller-manager" using apps/v1`. */
function describeManager(c: ApplyConflict): string {
  const name = JSON.stringify(c.manager);
  return c.operation === 'Update' ? `${name} using ${c.apiVersion ?? ''}` : name;
}

/**
 * kube-apiserver's 409 for apply conflicts (reason `Conflict`, one `FieldManagerConflict` cause
 * per field):
 * `Apply failed with 1 conflict: conflict with "other" using apps/v1: .spec.replicas`, or for
 * several, `Apply failed with 2 conflicts: conflicts with "a":\n- .x\n- .y`, grouped by manager.
 */
export function applyConflictError(conflicts: readonly ApplyConflict[]): StatusError {
  const causes: StatusCause[] = conflicts.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${describeManager(c)}`,
    field: c.field,
  }));
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${describeManager(conflicts[0])}: ${conflicts[0].field}`;
  } else {
    const groups = new Map<string, ApplyConflict[]>();
    for (const c of conflicts) {
      const id = managerIdentifier(c);
      if (!groups.has(id)) groups.set(id, []);
      groups.get(id)!.push(c);
    }
    const lines: string[] = [];
    for (const id of [...groups.keys()].sort(compareStrings)) {
      const group = groups.get(id)!;
      lines.push(`conflicts with ${describeManager(group[0])}:`);
      for (const c of group) lines.push(`- ${c.field}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new StatusError(409, 'Conflict', message, { causes });
}

// ---------------------------------------------------------------------------------------------

function decodeConfig(config: unknown): JsonObject {
  if (config === null || config === undefined) return {};
  if (isJsonObject(config)) return config;
  const goType = Array.isArray(config) ? 'array' : typeof config === 'boolean' ? 'bool' : typeof config;
  throw errors.badRequest(
    `error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${goType} into Go value of type map[string]interface {}`,
  );
}

/** schema.ParseGroupVersion: "" is empty, "v1" the core group, "g/v" a named group, more slashes invalid. */
function parseGroupVersion(apiVersion: string): { group: string; version: string } | undefined {
  if (apiVersion === '' || apiVersion === '/') return { group: '', version: '' };
  const parts = apiVersion.split('/');
  if (parts.length === 1) return { group: '', version: parts[0] };
  if (parts.length === 2) return { group: parts[0], version: parts[1] };
  return undefined;
}

function groupVersionString(apiVersion: string): string {
  const gv = parseGroupVersion(apiVersion) ?? { group: '', version: '' };
  return gv.group ? `${gv.group}/${gv.version}` : gv.version;
}

/** GroupVersionKind.String(): `apps/v1, Kind=Deployment`, `/v1, Kind=Pod`. */
function gvkString(apiVersion: string, kind: string): string {
  const gv = parseGroupVersion(apiVersion) ?? { group: '', version: '' };
  return `${gv.group}/${gv.version}, Kind=${kind}`;
}

function stringField(obj: JsonObject, key: string): string {
  return typeof obj[key] === 'string' ? (obj[key] as string) : '';
}

function checkKind(config: JsonObject, o: ApplyOptions): void {
  const apiVersion = stringField(config, 'apiVersion');
  const kind = stringField(config, 'kind');
  if (o.kind !== undefined) {
    const a = parseGroupVersion(apiVersion);
    const b = parseGroupVersion(o.apiVersion);
    if (!a || !b || a.group !== b.group || a.version !== b.version || kind !== o.kind) {
      throw errors.badRequest(`invalid object type: ${gvkString(apiVersion, kind)}`);
    }
  } else if (groupVersionString(apiVersion) !== groupVersionString(o.apiVersion)) {
    throw errors.badRequest(
      `Incorrect version specified in apply patch. Specified patch version: ${groupVersionString(apiVersion)}, expected: ${groupVersionString(o.apiVersion)}`,
    );
  }
}

/** A Status with no reason, as kube-apiserver answers errors that are not API errors. */
function untypedError(code: number, message: string): StatusError {
  const err = new StatusError(code, '', message);
  delete err.status.reason;
  return err;
}

function typedPatchError(config: JsonObject, problems: TypingError[]): StatusError {
  const meta = isJsonObject(config.metadata) ? config.metadata : {};
  const where = `${stringField(meta, 'namespace')}/${stringField(meta, 'name')}; ${gvkString(stringField(config, 'apiVersion'), stringField(config, 'kind'))}`;
  return untypedError(500, `failed to create typed patch object (${where}): ${formatTypingErrors(problems)}`);
}

function annotationsOf(obj: unknown): JsonObject | undefined {
  if (!isJsonObject(obj) || !isJsonObject(obj.metadata)) return undefined;
  const annotations = obj.metadata.annotations;
  return isJsonObject(annotations) ? annotations : undefined;
}

function hasLastApplied(obj: JsonObject): boolean {
  const value = annotationsOf(obj)?.[LAST_APPLIED_CONFIG_ANNOTATION];
  return typeof value === 'string' && value.length > 0;
}

/** The annotation value upstream writes: the configuration without the annotation, as Go's JSON encoder writes it. */
function buildLastApplied(config: JsonObject): string {
  const copy = cloneJson(config);
  const annotations = annotationsOf(copy);
  if (annotations && isJsonObject(copy.metadata)) {
    const rest = { ...annotations };
    delete rest[LAST_APPLIED_CONFIG_ANNOTATION];
    copy.metadata.annotations = rest;
  }
  return goJson(copy) + '\n';
}

/** TotalAnnotationSizeLimitB. */
const ANNOTATIONS_SIZE_LIMIT = 256 * 1024;

function setLastApplied(obj: JsonObject, value: string): void {
  if (!isJsonObject(obj.metadata)) obj.metadata = {};
  const meta = obj.metadata as JsonObject;
  const annotations: JsonObject = { ...(isJsonObject(meta.annotations) ? meta.annotations : {}) };
  annotations[LAST_APPLIED_CONFIG_ANNOTATION] = value;
  let size = 0;
  for (const [k, v] of Object.entries(annotations))
    size += Buffer.byteLength(k) + (typeof v === 'string' ? Buffer.byteLength(v) : 0);
  if (size > ANNOTATIONS_SIZE_LIMIT) delete annotations[LAST_APPLIED_CONFIG_ANNOTATION];
  meta.annotations = annotations;
}

/** encoding/json.Marshal of decoded JSON: sorted keys, HTML-safe escapes. */
function goJson(value: unknown): string {
  if (Array.isArray(value)) return '[' + value.map(goJson).join(',') + ']';
  if (isJsonObject(value)) {
    const keys = Object.keys(value).sort(compareStrings);
    return '{' + keys.map((k) => goString(k) + ':' + goJson(value[k])).join(',') + '}';
  }
  if (typeof value === 'string') return goString(value);
  return JSON.stringify(value) ?? 'null';
}

/** A Go JSON string: `\n`, `\r`, `\t` short escapes, other control characters and `<>&` U+2028 U+2029 as `\u00XX`. */
function goString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029)
      out += '\\u' + c.toString(16).padStart(4, '0');
    else if (c >= 0xd800 && c <= 0xdfff)
      out += '\ufffd'; // a lone surrogate decodes to U+FFFD in Go
    else out += ch;
  }
  return out + '"';
}
