import { z } from 'zod';

/**
 * Checks real answers against the service's own OpenAPI document: the status
 * is one the operation documents, the content type one documented for that
 * status, and a JSON body valid against the documented schema (converted
 * with zod's JSON Schema reader, so no second validator is needed).
 */

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

export interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
}

export interface OpenApiChecker {
  doc: OpenApiDoc;
  /** The problems of one answer ([] when it is as documented); reads a clone, so the caller may still read the body. */
  check(method: string, url: string, res: Response): Promise<string[]>;
  /** The `METHOD /template` of every operation checked so far. */
  seen: Set<string>;
}

const REF = '#/components/schemas/';

/**
 * The document's schemas with their references pointed at `$defs`, and every
 * object closed (`additionalProperties: false` where it says nothing): an
 * answer carrying a field the document does not name is drift too.
 */
function toDefs(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toDefs);
  if (schema && typeof schema === 'object') {
    const out = Object.fromEntries(
      Object.entries(schema).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' && v.startsWith(REF) ? `#/$defs/${v.slice(REF.length)}` : toDefs(v)]),
    );
    if ('properties' in out && !('additionalProperties' in out)) out.additionalProperties = false;
    return out;
  }
  return schema;
}

/** A path template as a regular expression; literal segments (`calls:import`) win over parameters by being tried first. */
function templates(doc: OpenApiDoc): Array<{ template: string; re: RegExp; params: number }> {
  return Object.keys(doc.paths)
    .map((template) => ({
      template,
      re: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}/?$`),
      params: (template.match(/\{/g) ?? []).length,
    }))
    .sort((a, b) => a.params - b.params);
}

function mediaMatches(documented: string, actual: string): boolean {
  if (documented.endsWith('/*')) return actual.startsWith(documented.slice(0, -1));
  return documented === actual;
}

export async function openApiChecker(baseUrl: string): Promise<OpenApiChecker> {
  const doc = (await (await fetch(`${baseUrl}/openapi.json`)).json()) as OpenApiDoc;
  const defs = toDefs(doc.components.schemas) as Record<string, unknown>;
  const compiled = new Map<unknown, z.ZodType>();
  const schemaFor = (schema: unknown): z.ZodType => {
    let s = compiled.get(schema);
    if (!s) {
      s = z.fromJSONSchema({ $schema: 'https://json-schema.org/draft/2020-12/schema', $defs: defs, ...(toDefs(schema) as object) } as never);
      compiled.set(schema, s);
    }
    return s;
  };
  const paths = templates(doc);
  const seen = new Set<string>();
  return {
    doc,
    seen,
    async check(method, url, res) {
      const path = new URL(url, baseUrl).pathname;
      const m = method.toLowerCase();
      const found = paths.find((p) => p.re.test(path) && doc.paths[p.template]![m]);
      if (!found) return [`${method} ${path}: not in the document`];
      const name = `${method.toUpperCase()} ${found.template}`;
      seen.add(name);
      const response = doc.paths[found.template]![m]!.responses[String(res.status)];
      if (!response) return [`${name}: status ${res.status} not documented`];
      const contentType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      const body = await res.clone().text();
      if (!response.content) return body === '' ? [] : [`${name} ${res.status}: a body (${contentType}) where none is documented`];
      const media = Object.keys(response.content).find((k) => mediaMatches(k, contentType));
      if (!media) return [`${name} ${res.status}: content type ${contentType || '(none)'} not documented (${Object.keys(response.content).join(', ')})`];
      if (media !== 'application/json') return [];
      let value: unknown;
      try {
        value = JSON.parse(body);
      } catch {
        return [`${name} ${res.status}: body is not JSON`];
      }
      const result = schemaFor(response.content[media]!.schema).safeParse(value);
      if (result.success) return [];
      return result.error.issues.map((i) => `${name} ${res.status}: ${i.path.join('.') || '(body)'}: ${i.message}`);
    },
  };
}

const OPERATION_FIELDS = new Set(['tags', 'summary', 'description', 'externalDocs', 'operationId', 'parameters', 'requestBody', 'responses', 'callbacks', 'deprecated', 'security', 'servers']);

/**
 * What makes the document itself wrong, whatever the service answers: fields
 * OpenAPI does not have, path parameters not declared, a pattern a validator
 * reading it without the `u` flag misreads (or with flags glued on), an
 * example that fails its own schema, a schema that cannot be read.
 */
export function documentProblems(doc: OpenApiDoc): string[] {
  const out: string[] = [];
  const defs = toDefs(doc.components.schemas) as Record<string, unknown>;
  const read = (schema: object) => z.fromJSONSchema({ $schema: 'https://json-schema.org/draft/2020-12/schema', $defs: defs, ...(toDefs(schema) as object) } as never);
  for (const [path, item] of Object.entries(doc.paths)) {
    const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    for (const [method, op] of Object.entries(item) as Array<[string, Operation & Record<string, unknown>]>) {
      const name = `${method.toUpperCase()} ${path}`;
      for (const k of Object.keys(op)) if (!OPERATION_FIELDS.has(k) && !k.startsWith('x-')) out.push(`${name}: "${k}" is no field of an OpenAPI operation`);
      const params = (op.parameters ?? []) as Array<{ in: string; name: string; required?: boolean }>;
      for (const n of names) if (!params.some((p) => p.in === 'path' && p.name === n && p.required === true)) out.push(`${name}: path parameter ${n} not declared`);
    }
  }
  const walk = (s: unknown, where: string): void => {
    if (!s || typeof s !== 'object') return;
    if (Array.isArray(s)) return s.forEach((x, i) => walk(x, `${where}[${i}]`));
    const o = s as Record<string, unknown>;
    if (typeof o.pattern === 'string') {
      if (o.pattern.includes('\\p{') || /\/[dgimsuyv]*$/.test(o.pattern)) out.push(`${where}: pattern ${o.pattern} is read differently with and without the u flag`);
      try {
        new RegExp(o.pattern);
      } catch {
        out.push(`${where}: pattern ${o.pattern} does not compile`);
      }
    }
    if ('example' in o && (o.type || o.anyOf || o.$ref || o.properties)) {
      const { example, ...schema } = o;
      const result = read(schema).safeParse(example);
      if (!result.success) out.push(`${where}: example fails its schema: ${result.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
    }
    for (const [k, v] of Object.entries(o)) if (k !== 'example' && k !== 'examples' && k !== 'enum' && k !== 'const' && k !== 'default') walk(v, `${where}.${k}`);
  };
  walk(doc.components, '#/components');
  walk(doc.paths, '#/paths');
  for (const [k, v] of Object.entries(doc.components.schemas)) {
    try {
      read(v as object);
    } catch (err) {
      out.push(`#/components/schemas/${k}: cannot be read: ${(err as Error).message}`);
    }
  }
  return out;
}
