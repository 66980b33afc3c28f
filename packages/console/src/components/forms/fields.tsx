/**
 * The building blocks of the create and edit forms: immutable updates of an object by path, a
 * text field, a choice, and a list of name/value pairs. Every field has a visible label (and so
 * an accessible name); every list row has labelled buttons.
 */
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import {
  Button,
  FormGroup,
  FormHelperText,
  FormSelect,
  FormSelectOption,
  HelperText,
  HelperTextItem,
  TextInput,
} from '@patternfly/react-core';
import PlusCircleIcon from '@patternfly/react-icons/dist/esm/icons/plus-circle-icon';
import MinusCircleIcon from '@patternfly/react-icons/dist/esm/icons/minus-circle-icon';

export type Path = (string | number)[];

export function getIn(object: unknown, path: Path): any {
  let current: any = object;
  for (const p of path) current = current == null ? undefined : current[p];
  return current;
}

/**
 * A copy of `object` with `value` at `path` (intermediate objects and arrays created as needed);
 * `undefined` removes the key, and objects left empty by that are removed too.
 */
export function setIn<T>(object: T, path: Path, value: unknown): T {
  const copy = structuredClone(object) as any;
  let current = copy;
  const parents: [any, string | number][] = [];
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i];
    if (current[key] == null || typeof current[key] !== 'object') current[key] = typeof path[i + 1] === 'number' ? [] : {};
    parents.push([current, key]);
    current = current[key];
  }
  const last = path[path.length - 1];
  if (value === undefined) {
    if (Array.isArray(current) && typeof last === 'number') current.splice(last, 1);
    else delete current[last];
    // Remove the objects this left empty, innermost first (arrays stay: an empty list may mean something).
    for (let i = parents.length - 1; i >= 0; i--) {
      const [parent, key] = parents[i];
      const child = parent[key];
      if (child && !Array.isArray(child) && typeof child === 'object' && !Object.keys(child).length) delete parent[key];
      else break;
    }
  } else current[last] = value;
  return copy;
}

export function TextField({
  id,
  label,
  value,
  onChange,
  isRequired,
  isDisabled,
  type = 'text',
  helper,
  placeholder,
}: {
  id: string;
  label: string;
  value: string | number | undefined;
  onChange(value: string): void;
  isRequired?: boolean;
  isDisabled?: boolean;
  type?: 'text' | 'number' | 'password' | 'email';
  helper?: string;
  placeholder?: string;
}) {
  return (
    <FormGroup label={label} fieldId={id} isRequired={isRequired}>
      <TextInput
        id={id}
        type={type}
        value={value ?? ''}
        onChange={(_e, v) => onChange(v)}
        isRequired={isRequired}
        isDisabled={isDisabled}
        placeholder={placeholder}
        autoComplete={type === 'password' ? 'new-password' : 'off'}
      />
      {helper && (
        <FormHelperText>
          <HelperText>
            <HelperTextItem>{helper}</HelperTextItem>
          </HelperText>
        </FormHelperText>
      )}
    </FormGroup>
  );
}

export function ChoiceField({
  id,
  label,
  value,
  options,
  onChange,
  isRequired,
}: {
  id: string;
  label: string;
  value: string | undefined;
  options: { value: string; label: string }[];
  onChange(value: string): void;
  isRequired?: boolean;
}) {
  return (
    <FormGroup label={label} fieldId={id} isRequired={isRequired}>
      <FormSelect id={id} value={value ?? ''} onChange={(_e, v) => onChange(v)} aria-label={label}>
        {options.map((o) => (
          <FormSelectOption key={o.value} value={o.value} label={o.label} />
        ))}
      </FormSelect>
    </FormGroup>
  );
}

/** Rows of fields with add and remove buttons (ports, env, data, rules…). */
export function RowList<T>({
  id,
  label,
  rows,
  onChange,
  empty,
  render,
  addLabel,
}: {
  id: string;
  label: string;
  rows: T[];
  onChange(rows: T[]): void;
  empty: T;
  render(row: T, update: (row: T) => void, index: number): ReactNode;
  addLabel: string;
}) {
  const { t } = useTranslation();
  return (
    <FormGroup label={label} fieldId={`${id}-add`} role="group" isStack>
      {rows.map((row, i) => (
        <div key={i} className="canopy-form-row" data-testid={`${id}-row`}>
          {render(row, (next) => onChange(rows.map((r, j) => (j === i ? next : r))), i)}
          <Button
            variant="plain"
            aria-label={t('form.removeRow', { what: label, index: i + 1 })}
            onClick={() => onChange(rows.filter((_, j) => j !== i))}
            icon={<MinusCircleIcon />}
          />
        </div>
      ))}
      <Button
        id={`${id}-add`}
        variant="link"
        isInline
        icon={<PlusCircleIcon />}
        onClick={() => onChange([...rows, structuredClone(empty)])}
      >
        {addLabel}
      </Button>
    </FormGroup>
  );
}

/** One inline input of a row, labelled for assistive technology (rows have no visible labels but the first). */
export function RowInput({
  label,
  value,
  onChange,
  type = 'text',
  width,
  isInvalid,
  isDisabled,
}: {
  label: string;
  value: string | number | undefined;
  onChange(value: string): void;
  type?: 'text' | 'number' | 'password';
  width?: string;
  /** Shown as an error (and `aria-invalid`) when the form refuses the value. */
  isInvalid?: boolean;
  isDisabled?: boolean;
}) {
  return (
    <TextInput
      aria-label={label}
      title={label}
      placeholder={label}
      type={type}
      value={value ?? ''}
      onChange={(_e, v) => onChange(v)}
      style={width ? { maxWidth: width } : undefined}
      validated={isInvalid ? 'error' : 'default'}
      isDisabled={isDisabled}
    />
  );
}

/** One inline choice of a row, labelled for assistive technology like `RowInput`. */
export function RowChoice({
  label,
  value,
  options,
  onChange,
  width,
  isInvalid,
  isDisabled,
}: {
  label: string;
  value: string | undefined;
  options: { value: string; label: string }[];
  onChange(value: string): void;
  width?: string;
  isInvalid?: boolean;
  isDisabled?: boolean;
}) {
  return (
    <FormSelect
      aria-label={label}
      title={label}
      value={value ?? ''}
      onChange={(_e, v) => onChange(v)}
      style={width ? { maxWidth: width } : undefined}
      validated={isInvalid ? 'error' : 'default'}
      isDisabled={isDisabled}
    >
      {options.map((o) => (
        <FormSelectOption key={o.value} value={o.value} label={o.label} />
      ))}
    </FormSelect>
  );
}

/** A `map[string]string` (labels, env as pairs, ConfigMap data) edited as name/value rows. */
export function PairsField({
  id,
  label,
  value,
  onChange,
  keyLabel,
  valueLabel,
  addLabel,
  secret,
}: {
  id: string;
  label: string;
  value: [string, string][];
  onChange(pairs: [string, string][]): void;
  keyLabel: string;
  valueLabel: string;
  addLabel: string;
  secret?: boolean;
}) {
  return (
    <RowList<[string, string]>
      id={id}
      label={label}
      rows={value}
      onChange={onChange}
      empty={['', '']}
      addLabel={addLabel}
      render={([k, v], update) => (
        <>
          <RowInput label={keyLabel} value={k} onChange={(x) => update([x, v])} />
          <RowInput label={valueLabel} value={v} onChange={(x) => update([k, x])} type={secret ? 'password' : 'text'} />
        </>
      )}
    />
  );
}

export const toPairs = (map: Record<string, string> | undefined): [string, string][] => Object.entries(map ?? {});

/** A number typed into a text field: undefined while empty, the number otherwise (invalid text kept for the server to refuse). */
export function numberOrText(v: string): number | string | undefined {
  if (v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && /^-?\d+$/.test(v.trim()) ? n : v;
}
