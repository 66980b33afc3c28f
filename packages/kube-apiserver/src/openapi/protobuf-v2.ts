/**
 * `/openapi/v2` in protobuf: the swagger document as the `openapi.v2.Document` message of
 * google/gnostic (`openapiv2/OpenAPIv2.proto`), which kube-apiserver serves for
 * `Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`. kubectl up to 1.28 asks
 * for nothing else: it validates manifests, explains fields and computes strategic merge patches
 * from this document, and looks in its PATCH operations for the `fieldValidation` parameter.
 *
 * gnostic's model is not JSON with a schema: maps become repeated `Named*` pairs (in document
 * order), values that can be one of several shapes become `oneof` wrappers (`ParametersItem`,
 * `AdditionalPropertiesItem`, `SchemaItem`…), `type` is `TypeItem{value: repeated string}`, `items`
 * is `ItemsItem{schema: repeated Schema}`, and every free-form value (vendor extensions `x-*`,
 * `default`, `enum`, `example`) is an `Any` whose `yaml` field holds the value as YAML text.
 * kubectl parses those texts with gopkg.in/yaml.v2 (YAML 1.1), so they are written as JSON
 * (a YAML flow document) where every string is quoted: `"on"`, `"1.0"` or `"null"` stay strings.
 *
 * Keys the proto has no field for (JSON Schema keywords beyond swagger's, like `anyOf`) are
 * dropped, as gnostic would refuse them. The message is written by hand: it is a few dozen
 * message types of strings, bools, numbers and sub-messages.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/**
 * The media type of this encoding, as kube-openapi's handler answers it. kubectl ≤1.28 asks for
 * the older spelling with `@` ({@link OPENAPI_V2_PROTOBUF_DEPRECATED_TYPE}), but the answer must
 * use this one: client-go parses the response Content-Type with Go's `mime.ParseMediaType`, which
 * refuses `@` ("mime: unexpected content after media subtype").
 */
export const OPENAPI_V2_PROTOBUF_CONTENT_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
/** The Accept spelling client-go's discovery client (kubectl ≤1.28) sends. */
export const OPENAPI_V2_PROTOBUF_DEPRECATED_TYPE = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

// ---------------------------------------------------------------------------------------------
// Wire format

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;

/** One message being written: fields append their encoded bytes, sub-messages are written first and embedded. */
class ProtoMessage {
  private readonly parts: Buffer[] = [];

  private key(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  private varint(value: number): void {
    const bytes: number[] = [];
    if (value >= 0) {
      // Arithmetic, not bit operators: those truncate to 32 bits, and lengths and int64s may not fit.
      let v = value;
      while (v >= 0x80) {
        bytes.push((v % 0x80) | 0x80);
        v = Math.floor(v / 0x80);
      }
      bytes.push(v);
    } else {
      // Negative int64 values are sent as their 64-bit two's complement: ten bytes.
      let v = BigInt.asUintN(64, BigInt(value));
      while (v >= 0x80n) {
        bytes.push(Number(v & 0x7fn) | 0x80);
        v >>= 7n;
      }
      bytes.push(Number(v));
    }
    this.parts.push(Buffer.from(bytes));
  }

  private lengthDelimited(field: number, bytes: Buffer): void {
    this.key(field, LENGTH_DELIMITED);
    this.varint(bytes.length);
    this.parts.push(bytes);
  }

  /** proto3 scalars at their default value are not written. */
  string(field: number, value: Json | undefined): this {
    if (typeof value === 'string' && value !== '') this.lengthDelimited(field, Buffer.from(value, 'utf8'));
    return this;
  }

  strings(field: number, values: Json | undefined): this {
    // Repeated strings are written even when empty: an empty string is an element.
    for (const v of asArray(values)) if (typeof v === 'string') this.lengthDelimited(field, Buffer.from(v, 'utf8'));
    return this;
  }

  bool(field: number, value: Json | undefined): this {
    if (value === true) {
      this.key(field, VARINT);
      this.varint(1);
    }
    return this;
  }

  /** A bool member of a oneof: its presence is what says which member is set, so false is written too. */
  oneofBool(field: number, value: boolean): this {
    this.key(field, VARINT);
    this.varint(value ? 1 : 0);
    return this;
  }

  int64(field: number, value: Json | undefined): this {
    if (typeof value === 'number' && Number.isInteger(value) && value !== 0) {
      this.key(field, VARINT);
      this.varint(value);
    }
    return this;
  }

  double(field: number, value: Json | undefined): this {
    if (typeof value === 'number' && value !== 0) {
      const bytes = Buffer.alloc(8);
      bytes.writeDoubleLE(value);
      this.key(field, FIXED64);
      this.parts.push(bytes);
    }
    return this;
  }

  /** A sub-message; `undefined` (absent in the JSON) is not written, an empty message is. */
  message(field: number, value: ProtoMessage | undefined): this {
    if (value) this.lengthDelimited(field, value.finish());
    return this;
  }

  messages(field: number, values: Iterable<ProtoMessage>): this {
    for (const v of values) this.message(field, v);
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

// ---------------------------------------------------------------------------------------------
// JSON helpers

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asArray(value: Json | undefined): Json[] {
  return Array.isArray(value) ? value : [];
}

function objectOrUndefined(value: Json | undefined): JsonObject | undefined {
  return isObject(value) ? value : undefined;
}

/** The entries of a JSON map in document order, as gnostic's `Named*` pairs keep them. */
function entries(value: Json | undefined): Array<[string, Json]> {
  return isObject(value) ? Object.entries(value) : [];
}

/**
 * A free-form value as `Any.yaml`. JSON is YAML; written in flow style every string is quoted,
 * so YAML 1.1 readers cannot take `"yes"` for a bool or `"08"` for a number. Characters that
 * JSON leaves raw but YAML does not allow or treats as line breaks are escaped.
 */
function yamlText(value: Json): string {
  const text = JSON.stringify(value).replace(
    /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return `${text}\n`;
}

/** `Any{yaml}` (field 2; field 1, a google.protobuf.Any, is for values gnostic extensions compile). */
function any(value: Json | undefined): ProtoMessage | undefined {
  if (value === undefined) return undefined;
  return new ProtoMessage().string(2, yamlText(value));
}

/** Vendor extensions: every `x-*` key of the object, as `NamedAny{name, value}`. */
function vendorExtensions(object: JsonObject): ProtoMessage[] {
  return Object.entries(object)
    .filter(([k]) => k.startsWith('x-'))
    .map(([name, value]) => new ProtoMessage().string(1, name).message(2, any(value)));
}

// ---------------------------------------------------------------------------------------------
// Shared small messages

function externalDocs(value: Json | undefined): ProtoMessage | undefined {
  if (!isObject(value)) return undefined;
  return new ProtoMessage().string(1, value.description).string(2, value.url).messages(3, vendorExtensions(value));
}

function jsonReference(value: JsonObject): ProtoMessage {
  return new ProtoMessage().string(1, value.$ref).string(2, value.description);
}

function info(value: Json | undefined): ProtoMessage | undefined {
  if (!isObject(value)) return undefined;
  const contact = objectOrUndefined(value.contact);
  const license = objectOrUndefined(value.license);
  return new ProtoMessage()
    .string(1, value.title)
    .string(2, value.version)
    .string(3, value.description)
    .string(4, value.termsOfService)
    .message(
      5,
      contact &&
        new ProtoMessage()
          .string(1, contact.name)
          .string(2, contact.url)
          .string(3, contact.email)
          .messages(4, vendorExtensions(contact)),
    )
    .message(
      6,
      license && new ProtoMessage().string(1, license.name).string(2, license.url).messages(3, vendorExtensions(license)),
    )
    .messages(7, vendorExtensions(value));
}

function tag(value: Json): ProtoMessage | undefined {
  if (!isObject(value)) return undefined;
  return new ProtoMessage()
    .string(1, value.name)
    .string(2, value.description)
    .message(3, externalDocs(value.externalDocs))
    .messages(4, vendorExtensions(value));
}

// ---------------------------------------------------------------------------------------------
// Schema

/** `Schema`: kubectl reads `$ref`, type, format, description, properties, items, additionalProperties, required and extensions. */
function schema(value: Json | undefined): ProtoMessage | undefined {
  if (!isObject(value)) return undefined;
  const message = new ProtoMessage()
    .string(1, value.$ref)
    .string(2, value.format)
    .string(3, value.title)
    .string(4, value.description)
    .message(5, any(value.default))
    .double(6, value.multipleOf)
    .double(7, value.maximum)
    .bool(8, value.exclusiveMaximum)
    .double(9, value.minimum)
    .bool(10, value.exclusiveMinimum)
    .int64(11, value.maxLength)
    .int64(12, value.minLength)
    .string(13, value.pattern)
    .int64(14, value.maxItems)
    .int64(15, value.minItems)
    .bool(16, value.uniqueItems)
    .int64(17, value.maxProperties)
    .int64(18, value.minProperties)
    .strings(19, value.required)
    .messages(
      20,
      asArray(value.enum).map((v) => any(v)!),
    );

  const additional = value.additionalProperties;
  if (typeof additional === 'boolean') message.message(21, new ProtoMessage().oneofBool(2, additional));
  else if (isObject(additional)) message.message(21, new ProtoMessage().message(1, schema(additional)));

  if (typeof value.type === 'string' || Array.isArray(value.type)) {
    message.message(22, new ProtoMessage().strings(1, typeof value.type === 'string' ? [value.type] : value.type));
  }
  if (isObject(value.items)) message.message(23, new ProtoMessage().message(1, schema(value.items)));
  else if (Array.isArray(value.items)) message.message(23, new ProtoMessage().messages(1, schemas(value.items)));
  message.messages(24, schemas(value.allOf));
  // An empty `properties: {}` is still written: kubectl tells an object with no fields (a Kind)
  // from a map by whether `properties` is present.
  if (isObject(value.properties)) message.message(25, new ProtoMessage().messages(1, namedSchemas(value.properties)));

  const xml = objectOrUndefined(value.xml);
  return message
    .string(26, value.discriminator)
    .bool(27, value.readOnly)
    .message(
      28,
      xml &&
        new ProtoMessage()
          .string(1, xml.name)
          .string(2, xml.namespace)
          .string(3, xml.prefix)
          .bool(4, xml.attribute)
          .bool(5, xml.wrapped)
          .messages(6, vendorExtensions(xml)),
    )
    .message(29, externalDocs(value.externalDocs))
    .message(30, any(value.example))
    .messages(31, vendorExtensions(value));
}

function schemas(values: Json | undefined): ProtoMessage[] {
  return asArray(values)
    .map((v) => schema(v))
    .filter((m): m is ProtoMessage => m !== undefined);
}

/** `NamedSchema{name, value}` pairs: `Definitions` and `Properties` are both lists of them. */
function namedSchemas(map: Json | undefined): ProtoMessage[] {
  return entries(map)
    .filter(([, v]) => isObject(v))
    .map(([name, v]) => new ProtoMessage().string(1, name).message(2, schema(v)));
}

/** `FileSchema`, the schema of a response whose `type` is `file`. */
function fileSchema(value: JsonObject): ProtoMessage {
  return new ProtoMessage()
    .string(1, value.format)
    .string(2, value.title)
    .string(3, value.description)
    .message(4, any(value.default))
    .strings(5, value.required)
    .string(6, value.type)
    .bool(7, value.readOnly)
    .message(8, externalDocs(value.externalDocs))
    .message(9, any(value.example))
    .messages(10, vendorExtensions(value));
}

// ---------------------------------------------------------------------------------------------
// Parameters, headers, responses

/**
 * The fields shared by non-body parameters, `PrimitivesItems` and `Header`, from `type` to
 * `multipleOf`: always in this order, numbered from `first`.
 */
function primitiveFields(message: ProtoMessage, value: JsonObject, first: number): ProtoMessage {
  return message
    .string(first, value.type)
    .string(first + 1, value.format)
    .message(first + 2, primitivesItems(value.items))
    .string(first + 3, value.collectionFormat)
    .message(first + 4, any(value.default))
    .double(first + 5, value.maximum)
    .bool(first + 6, value.exclusiveMaximum)
    .double(first + 7, value.minimum)
    .bool(first + 8, value.exclusiveMinimum)
    .int64(first + 9, value.maxLength)
    .int64(first + 10, value.minLength)
    .string(first + 11, value.pattern)
    .int64(first + 12, value.maxItems)
    .int64(first + 13, value.minItems)
    .bool(first + 14, value.uniqueItems)
    .messages(
      first + 15,
      asArray(value.enum).map((v) => any(v)!),
    )
    .double(first + 16, value.multipleOf);
}

function primitivesItems(value: Json | undefined): ProtoMessage | undefined {
  if (!isObject(value)) return undefined;
  return primitiveFields(new ProtoMessage(), value, 1).messages(18, vendorExtensions(value));
}

/** Header, form data, query and path parameters: `required, in, description, name`, then (query and form data) `allowEmptyValue`. */
function nonBodyParameter(value: JsonObject): ProtoMessage | undefined {
  const oneofField = { header: 1, formData: 2, query: 3, path: 4 }[String(value.in)];
  if (oneofField === undefined) return undefined;
  const allowsEmptyValue = value.in === 'query' || value.in === 'formData';
  const sub = new ProtoMessage().bool(1, value.required).string(2, value.in).string(3, value.description).string(4, value.name);
  if (allowsEmptyValue) sub.bool(5, value.allowEmptyValue);
  const first = allowsEmptyValue ? 6 : 5;
  primitiveFields(sub, value, first).messages(first + 17, vendorExtensions(value));
  return new ProtoMessage().message(oneofField, sub);
}

/** `Parameter`: oneof `BodyParameter` (1) or `NonBodyParameter` (2). */
function parameter(value: JsonObject): ProtoMessage | undefined {
  if (value.in === 'body') {
    const body = new ProtoMessage()
      .string(1, value.description)
      .string(2, value.name)
      .string(3, value.in)
      .bool(4, value.required)
      .message(5, schema(value.schema))
      .messages(6, vendorExtensions(value));
    return new ProtoMessage().message(1, body);
  }
  const nonBody = nonBodyParameter(value);
  return nonBody && new ProtoMessage().message(2, nonBody);
}

/** `ParametersItem`: oneof `Parameter` (1) or `JsonReference` (2). */
function parametersItems(values: Json | undefined): ProtoMessage[] {
  const items: ProtoMessage[] = [];
  for (const v of asArray(values)) {
    if (!isObject(v)) continue;
    if (typeof v.$ref === 'string') {
      items.push(new ProtoMessage().message(2, jsonReference(v)));
      continue;
    }
    const p = parameter(v);
    if (p) items.push(new ProtoMessage().message(1, p));
  }
  return items;
}

function header(value: JsonObject): ProtoMessage {
  return primitiveFields(new ProtoMessage(), value, 1).string(18, value.description).messages(19, vendorExtensions(value));
}

function response(value: JsonObject): ProtoMessage {
  const message = new ProtoMessage().string(1, value.description);
  const s = value.schema;
  if (isObject(s))
    message.message(
      2,
      s.type === 'file' ? new ProtoMessage().message(2, fileSchema(s)) : new ProtoMessage().message(1, schema(s)),
    );
  if (isObject(value.headers)) {
    const headers = entries(value.headers)
      .filter(([, h]) => isObject(h))
      .map(([name, h]) => new ProtoMessage().string(1, name).message(2, header(h as JsonObject)));
    message.message(3, new ProtoMessage().messages(1, headers));
  }
  if (isObject(value.examples)) {
    const examples = entries(value.examples).map(([name, e]) => new ProtoMessage().string(1, name).message(2, any(e)));
    message.message(4, new ProtoMessage().messages(1, examples));
  }
  return message.messages(5, vendorExtensions(value));
}

/** `Responses`: `NamedResponseValue{code, oneof Response (1) | JsonReference (2)}`, then extensions. */
function responses(value: Json | undefined): ProtoMessage | undefined {
  if (!isObject(value)) return undefined;
  const codes = entries(value)
    .filter(([code, r]) => !code.startsWith('x-') && isObject(r))
    .map(([code, r]) => {
      const rv = r as JsonObject;
      const item =
        typeof rv.$ref === 'string'
          ? new ProtoMessage().message(2, jsonReference(rv))
          : new ProtoMessage().message(1, response(rv));
      return new ProtoMessage().string(1, code).message(2, item);
    });
  return new ProtoMessage().messages(1, codes).messages(2, vendorExtensions(value));
}

// ---------------------------------------------------------------------------------------------
// Security

function securityRequirements(values: Json | undefined): ProtoMessage[] {
  return asArray(values)
    .filter(isObject)
    .map((requirement) =>
      new ProtoMessage().messages(
        1,
        entries(requirement).map(([name, scopes]) =>
          new ProtoMessage().string(1, name).message(2, new ProtoMessage().strings(1, scopes)),
        ),
      ),
    );
}

function oauth2Scopes(value: Json | undefined): ProtoMessage | undefined {
  if (!isObject(value)) return undefined;
  return new ProtoMessage().messages(
    1,
    entries(value).map(([name, description]) => new ProtoMessage().string(1, name).string(2, description)),
  );
}

/** `SecurityDefinitionsItem`: oneof basic (1), apiKey (2), then the four OAuth2 flows (3–6). */
function securityScheme(value: JsonObject): ProtoMessage | undefined {
  const ext = vendorExtensions(value);
  switch (value.type) {
    case 'basic':
      return new ProtoMessage().message(
        1,
        new ProtoMessage().string(1, value.type).string(2, value.description).messages(3, ext),
      );
    case 'apiKey':
      return new ProtoMessage().message(
        2,
        new ProtoMessage()
          .string(1, value.type)
          .string(2, value.name)
          .string(3, value.in)
          .string(4, value.description)
          .messages(5, ext),
      );
    case 'oauth2': {
      const base = () => new ProtoMessage().string(1, value.type).string(2, value.flow).message(3, oauth2Scopes(value.scopes));
      switch (value.flow) {
        case 'implicit':
          return new ProtoMessage().message(
            3,
            base().string(4, value.authorizationUrl).string(5, value.description).messages(6, ext),
          );
        case 'password':
          return new ProtoMessage().message(4, base().string(4, value.tokenUrl).string(5, value.description).messages(6, ext));
        case 'application':
          return new ProtoMessage().message(5, base().string(4, value.tokenUrl).string(5, value.description).messages(6, ext));
        case 'accessCode':
          return new ProtoMessage().message(
            6,
            base().string(4, value.authorizationUrl).string(5, value.tokenUrl).string(6, value.description).messages(7, ext),
          );
      }
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Paths and the document

const OPERATION_FIELDS = { get: 2, put: 3, post: 4, delete: 5, options: 6, head: 7, patch: 8 } as const;

function operation(value: JsonObject): ProtoMessage {
  return new ProtoMessage()
    .strings(1, value.tags)
    .string(2, value.summary)
    .string(3, value.description)
    .message(4, externalDocs(value.externalDocs))
    .string(5, value.operationId)
    .strings(6, value.produces)
    .strings(7, value.consumes)
    .messages(8, parametersItems(value.parameters))
    .message(9, responses(value.responses))
    .strings(10, value.schemes)
    .bool(11, value.deprecated)
    .messages(12, securityRequirements(value.security))
    .messages(13, vendorExtensions(value));
}

function pathItem(value: JsonObject): ProtoMessage {
  const message = new ProtoMessage().string(1, value.$ref);
  for (const [method, field] of Object.entries(OPERATION_FIELDS)) {
    const op = value[method];
    if (isObject(op)) message.message(field, operation(op));
  }
  return message.messages(9, parametersItems(value.parameters)).messages(10, vendorExtensions(value));
}

function paths(value: Json | undefined): ProtoMessage | undefined {
  if (!isObject(value)) return undefined;
  const items = entries(value)
    .filter(([path, item]) => path.startsWith('/') && isObject(item))
    .map(([path, item]) => new ProtoMessage().string(1, path).message(2, pathItem(item as JsonObject)));
  return new ProtoMessage().messages(1, vendorExtensions(value)).messages(2, items);
}

/**
 * Encodes a Swagger 2.0 document (JSON, as served on `/openapi/v2`) as gnostic's
 * `openapi.v2.Document` protobuf message.
 */
export function encodeOpenApiV2Protobuf(doc: object): Buffer {
  const d = doc as JsonObject;
  const parameterDefinitions = entries(d.parameters)
    .filter(([, p]) => isObject(p))
    .map(([name, p]) => new ProtoMessage().string(1, name).message(2, parameter(p as JsonObject)));
  const responseDefinitions = entries(d.responses)
    .filter(([, r]) => isObject(r))
    .map(([name, r]) => new ProtoMessage().string(1, name).message(2, response(r as JsonObject)));
  const securityDefinitions = entries(d.securityDefinitions)
    .filter(([, s]) => isObject(s))
    .map(([name, s]) => new ProtoMessage().string(1, name).message(2, securityScheme(s as JsonObject)));

  return new ProtoMessage()
    .string(1, d.swagger)
    .message(2, info(d.info))
    .string(3, d.host)
    .string(4, d.basePath)
    .strings(5, d.schemes)
    .strings(6, d.consumes)
    .strings(7, d.produces)
    .message(8, paths(d.paths))
    .message(9, isObject(d.definitions) ? new ProtoMessage().messages(1, namedSchemas(d.definitions)) : undefined)
    .message(10, isObject(d.parameters) ? new ProtoMessage().messages(1, parameterDefinitions) : undefined)
    .message(11, isObject(d.responses) ? new ProtoMessage().messages(1, responseDefinitions) : undefined)
    .messages(12, securityRequirements(d.security))
    .message(13, isObject(d.securityDefinitions) ? new ProtoMessage().messages(1, securityDefinitions) : undefined)
    .messages(
      14,
      asArray(d.tags)
        .map(tag)
        .filter((t): t is ProtoMessage => t !== undefined),
    )
    .message(15, externalDocs(d.externalDocs))
    .messages(16, vendorExtensions(d))
    .finish();
}
