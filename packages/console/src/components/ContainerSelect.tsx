/** The container a pod's log or terminal is about, and the pod's API path they both start from. */
import { useTranslation } from 'react-i18next';
import { FormSelect, FormSelectOption } from '@patternfly/react-core';
import { kubePath } from '../api/resources';
import { registeredModel } from '../models/registry';
import type { K8sObject } from '../models/types';

/** The pod's own Kubernetes API path, which `/log` and `/exec` are subresources of. */
export function podPath(pod: K8sObject, cluster: string): string {
  return kubePath(registeredModel('pods')!, cluster, pod.metadata.namespace, pod.metadata.name);
}

export function ContainerSelect({
  containers,
  value,
  onChange,
}: {
  containers: string[];
  value: string;
  onChange: (container: string) => void;
}) {
  const { t } = useTranslation();
  return (
    <FormSelect aria-label={t('logs.container')} value={value} onChange={(_e, v) => onChange(v)}>
      {containers.map((c) => (
        <FormSelectOption key={c} value={c} label={c} />
      ))}
    </FormSelect>
  );
}
