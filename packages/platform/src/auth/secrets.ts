/**
 * KubeSphere keeps OAuth clients and identity providers as Secrets in kubesphere-system whose
 * `configuration.yaml` key holds the configuration (types `config.kubesphere.io/oauthclient` and
 * `config.kubesphere.io/identityprovider`, label `config.kubesphere.io/type`). This reads that key.
 */
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { CONFIG_TYPE_LABEL, KUBESPHERE_NAMESPACE, type SecretObject } from './model.js';

export const CONFIGURATION_KEY = 'configuration.yaml';

export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/**
 * The parsed `configuration.yaml` of a configuration Secret of `type`. `stringData` (as written,
 * before the API server folds it into data) wins over base64 `data`, as the API server does.
 */
export function readConfigurationSecret(secret: SecretObject, type: string): Record<string, unknown> {
  const where = `secret ${secret.metadata.namespace ?? ''}/${secret.metadata.name ?? ''}`;
  if (secret.type !== type) throw new ConfigurationError(`${where}: type is ${JSON.stringify(secret.type)}, not ${type}`);
  let text = secret.stringData?.[CONFIGURATION_KEY];
  if (text === undefined) {
    const data = secret.data?.[CONFIGURATION_KEY];
    if (data === undefined) throw new ConfigurationError(`${where}: no ${CONFIGURATION_KEY} key`);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data)) throw new ConfigurationError(`${where}: data.${CONFIGURATION_KEY} is not base64`);
    text = Buffer.from(data, 'base64').toString('utf8');
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new ConfigurationError(`${where}: ${CONFIGURATION_KEY} is not valid YAML: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigurationError(`${where}: ${CONFIGURATION_KEY} must be a mapping`);
  return value as Record<string, unknown>;
}

/** A configuration Secret ready to create: KubeSphere's MarshalInto, with the label its getters select on. */
export function buildConfigurationSecret(name: string, type: string, configType: string, configuration: object): SecretObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: KUBESPHERE_NAMESPACE, labels: { [CONFIG_TYPE_LABEL]: configType } },
    type,
    data: { [CONFIGURATION_KEY]: Buffer.from(stringifyYaml(configuration)).toString('base64') },
  };
}

/** Field readers that name the field in their errors. */
export function optionalString(obj: Record<string, unknown>, key: string, where: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ConfigurationError(`${where}.${key}: must be a string`);
  return v;
}

export function optionalBoolean(obj: Record<string, unknown>, key: string, where: string): boolean | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new ConfigurationError(`${where}.${key}: must be a boolean`);
  return v;
}

export function optionalInteger(obj: Record<string, unknown>, key: string, where: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ConfigurationError(`${where}.${key}: must be an integer`);
  return v;
}

export function optionalStringArray(obj: Record<string, unknown>, key: string, where: string): string[] | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string'))
    throw new ConfigurationError(`${where}.${key}: must be a list of strings`);
  return v;
}

export function optionalObject(obj: Record<string, unknown>, key: string, where: string): Record<string, unknown> | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new ConfigurationError(`${where}.${key}: must be a mapping`);
  return v as Record<string, unknown>;
}
