/**
 * The YAML of an object in CodeMirror 6 — its own chunk, loaded when the YAML tab opens. Read
 * only unless the user may edit; saving parses the YAML, asks the server for a dry run first
 * (admission and validation answer without storing), then updates. Errors are the server's words.
 */
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Flex, FlexItem } from '@patternfly/react-core';
import { basicSetup, EditorView } from 'codemirror';
import { Compartment, EditorState } from '@codemirror/state';
import { yaml } from '@codemirror/lang-yaml';
import { parse, stringify } from 'yaml';
import { api } from '../api/http';
import { kubePath, objectQueryKey } from '../api/resources';
import { comparable } from './diff';
import { DiffView } from './DiffView';
import type { K8sObject, ResourceModel, Scope } from '../models/types';

/** What the editor shows: the object without managedFields (noise nobody edits). */
export function toYaml(object: K8sObject): string {
  const { managedFields: _managed, ...metadata } = object.metadata as K8sObject['metadata'] & { managedFields?: unknown };
  return stringify({ ...object, metadata }, { lineWidth: 0 });
}

export interface YamlEditorProps {
  model: ResourceModel;
  scope: Scope;
  object: K8sObject;
  editable: boolean;
  startEditing?: boolean;
}

export default function YamlEditor({ model, scope, object, editable, startEditing }: YamlEditorProps) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView>(null);
  const readOnly = useRef(new Compartment());
  const [editing, setEditing] = useState(!!(startEditing && editable));
  const [error, setError] = useState('');
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  /** The dry run's answer, shown as a diff until the user applies or goes back to editing. */
  const [pending, setPending] = useState<{ body: K8sObject; before: string; after: string }>();

  useEffect(() => {
    if (!host.current) return;
    const editor = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: toYaml(object),
        extensions: [
          basicSetup,
          yaml(),
          readOnly.current.of([EditorState.readOnly.of(!editing), EditorView.editable.of(editing)]),
          EditorView.contentAttributes.of({ 'aria-label': t('yaml.editorLabel', { name: object.metadata.name }) }),
        ],
      }),
    });
    view.current = editor;
    return () => editor.destroy();
    // The editor is created once; later object versions replace its text below.
  }, []);

  // Live updates replace the text while the user is only reading.
  useEffect(() => {
    const editor = view.current;
    if (!editor || editing) return;
    const text = toYaml(object);
    if (editor.state.doc.toString() !== text)
      editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: text } });
  }, [object, editing]);

  useEffect(() => {
    view.current?.dispatch({
      effects: readOnly.current.reconfigure([EditorState.readOnly.of(!editing), EditorView.editable.of(editing)]),
    });
  }, [editing]);

  const target = () =>
    model.writePath?.(object.metadata.name, scope) ??
    model.getPath?.(object.metadata.name, scope) ??
    kubePath(model, scope.cluster, object.metadata.namespace, object.metadata.name);

  /** First step of a save: parse, ask the server for a dry run, and show what would change. */
  const review = async () => {
    setError('');
    setSaved(false);
    let body: K8sObject;
    try {
      body = parse(view.current?.state.doc.toString() ?? '') as K8sObject;
      if (!body || typeof body !== 'object' || !body.metadata) throw new Error(t('yaml.notAnObject'));
    } catch (err) {
      setError(t('yaml.invalid', { message: (err as Error).message }));
      return;
    }
    setBusy(true);
    try {
      // The Kubernetes API answers a dry run with what would be stored; platform endpoints have none.
      const after =
        model.getPath || model.writePath ? body : await api<K8sObject>(`${target()}?dryRun=All`, { method: 'PUT', body });
      setPending({ body, before: comparable(object), after: comparable(after) });
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const save = async () => {
    if (!pending) return;
    setBusy(true);
    const namespace = object.metadata.namespace;
    try {
      const updated = await api<K8sObject>(target(), { method: 'PUT', body: pending.body });
      client.setQueryData(objectQueryKey(model, scope, model.namespaced ? namespace : undefined, object.metadata.name), {
        apiVersion: object.apiVersion,
        kind: object.kind,
        ...updated,
      });
      setPending(undefined);
      setEditing(false);
      setSaved(true);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="canopy-gap-top">
      <Flex className="canopy-gap-bottom">
        {editable && !editing && (
          <FlexItem>
            <Button variant="secondary" onClick={() => setEditing(true)}>
              {t('yaml.edit')}
            </Button>
          </FlexItem>
        )}
        {editing && (
          <>
            <FlexItem>
              {pending ? (
                <Button variant="primary" onClick={() => void save()} isLoading={busy} isDisabled={busy}>
                  {t('apply.apply')}
                </Button>
              ) : (
                <Button variant="primary" onClick={() => void review()} isLoading={busy} isDisabled={busy}>
                  {t('apply.review')}
                </Button>
              )}
            </FlexItem>
            <FlexItem>
              <Button
                variant="link"
                onClick={() => {
                  if (pending) {
                    setPending(undefined);
                    return;
                  }
                  setEditing(false);
                  setError('');
                  const editor = view.current;
                  editor?.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: toYaml(object) } });
                }}
              >
                {pending ? t('apply.back') : t('actions.cancel')}
              </Button>
            </FlexItem>
          </>
        )}
      </Flex>
      {error && (
        <Alert isInline variant="danger" title={t('yaml.saveFailed')} className="canopy-gap-bottom">
          {error}
        </Alert>
      )}
      {saved && <Alert isInline variant="success" title={t('yaml.saved')} className="canopy-gap-bottom" />}
      {pending && (
        <div className="canopy-gap-bottom">
          <Alert isInline variant="info" title={t('apply.reviewChecked')} className="canopy-gap-bottom" />
          <DiffView before={pending.before} after={pending.after} />
        </div>
      )}
      <div ref={host} className="canopy-yaml" data-testid="yaml-editor" hidden={!!pending} />
    </div>
  );
}
