// fast-check arbitraries for requests to the gateway over HTTP: OneRoster reads and writes,
// token requests, and anything at all. Mostly-sensible requests are weighted up so that many
// get past the checks to the district, the cache and the version bridge.
import fc from 'fast-check';
import { ENDPOINTS, type Endpoint, type Version } from '../../src/core/oneroster/endpoints.js';
import { entityOfWrapper, fieldsOf } from '../../src/core/oneroster/model.js';
import { SCOPES } from '../../src/core/oneroster/scopes.js';
import { anyText, encodeVariant, encodingChoices, filterText, grammarFilter, rawQueryPiece } from './arbitraries.js';
import { sendable, type Probe } from './http-probe.js';

// ------------------------------------------------------------------------------------------
// Paths, queries and headers
// ------------------------------------------------------------------------------------------

const encoded = (s: fc.Arbitrary<string>) => fc.tuple(s, encodingChoices).map(([v, c]) => encodeVariant(v, c));
/** Ids of objects the districts hold, known only once the stack runs: read at generation time. */
type Ids = () => readonly string[];
const realId = (ids: Ids) => fc.constant(null).chain(() => fc.constantFrom(...ids()));
const pathId = (ids: Ids) => fc.oneof(
  { weight: 3, arbitrary: realId(ids) },
  fc.constantFrom('nope', '%zz', '%2F', '%2e%2e', '..', '.', '%00', 'a%20b', '\u00e9', '%C3%A9', '%ED%A0%80', '%F0%9F%98%80', '~', "'", 'x'.repeat(3000)),
  encoded(fc.string({ maxLength: 12 })),
  encoded(fc.string({ unit: 'grapheme', maxLength: 6 })),
);

/** Every endpoint of both versions, as a path template below /ims/oneroster. */
const ROUTES = ENDPOINTS.flatMap((e) => e.versions.map((v) => ({ endpoint: e, path: `${v === 'v1p1' ? '/v1p1' : `/${e.service}/v1p2`}${e.template}` })));
const READS = ROUTES.filter((r) => r.endpoint.method === 'GET');
const WRITES = ROUTES.filter((r) => r.endpoint.method !== 'GET');

const fill = (template: string, values: string[]) => {
  let i = 0;
  return template.replace(/\{id\}/g, () => values[i++ % values.length]!);
};

/** A small distortion of a good path: a slash, a segment, a case, a version. */
const pathDamage = fc.oneof(
  { weight: 12, arbitrary: fc.constant((p: string) => p) },
  fc.constantFrom(
    (p: string) => `${p}/`,
    (p: string) => `${p}//`,
    (p: string) => p.replace('/v1p', '//v1p'),
    (p: string) => `${p}/extra`,
    (p: string) => p.split('/').slice(0, -1).join('/'),
    (p: string) => p.replace('v1p1', 'v1p3'),
    (p: string) => p.replace('v1p2', 'V1P2'),
    (p: string) => p.replace('rostering', 'gradebook'),
    (p: string) => p.replace('/users', '/Users'),
    (p: string) => `${p}/../../../admin`,
    (p: string) => p.replace(/\//g, '%2F'),
    (p: string) => `${p};jsessionid=1`,
  ),
);

const prefix = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom('/districts/one', '/districts/two') },
  { weight: 2, arbitrary: fc.constant('') },
  fc.constantFrom('/districts/nope', '/districts/ONE', '/districts/%6fne', '/districts/', '/districts/%zz', '/districts/..', '/districts/one%2Ftwo', '/districts/one/districts/two', '/x'),
);

const queryValue = (name: string): fc.Arbitrary<string> => {
  switch (name) {
    case 'filter': return filterText;
    case 'sort': return fc.oneof(fc.constantFrom('familyName', 'givenName', 'sourcedId', 'dateLastModified', 'roles.role', 'role', ' familyName', 'nope', 'constructor', ''), anyText);
    case 'orderBy': return fc.constantFrom('asc', 'desc', 'ASC', '', 'sideways');
    case 'fields': return fc.oneof(fc.array(fc.constantFrom('sourcedId', 'givenName', 'familyName', 'status', 'title', 'role', 'roles', ' email', 'nope', 'metadata.x', '', '__proto__'), { maxLength: 4 }).map((f) => f.join(',')), anyText);
    case 'limit':
    case 'offset': return fc.oneof(fc.constantFrom('0', '1', '5', '100', '10000', '10001', '-1', '1e3', '', '2000000001', '99999999999999999999', ' 5', '0x10'), fc.nat().map(String));
    default: return anyText;
  }
};
const queryParam = fc
  .constantFrom('filter', 'sort', 'orderBy', 'fields', 'limit', 'offset', 'x', 'filter[]', '', 'Limit')
  .chain((name) => fc.tuple(fc.constant(name), queryValue(name), encodingChoices))
  .map(([name, value, enc]) => `${encodeVariant(name, enc)}=${encodeVariant(value, enc)}`);
// Mostly what a client means (each OneRoster parameter once, a small page), so that many
// requests get past the checks to the district, the cache and the version bridge.
const sensible = fc
  .record(
    {
      filter: fc.oneof(grammarFilter, { weight: 3, arbitrary: fc.constantFrom("status='active'", "givenName~'a'", "role='student'", "roles.role='student'", "dateLastModified>'2020-01-01'", "title~'1' OR status!='active'") }),
      sort: fc.constantFrom('sourcedId', 'familyName', 'givenName', 'dateLastModified', 'title', 'role', 'roles.role'),
      orderBy: fc.constantFrom('asc', 'desc'),
      fields: fc.subarray(['sourcedId', 'status', 'givenName', 'familyName', 'title', 'role', 'roles', 'dateLastModified'], { minLength: 1 }).map((f) => f.join(',')),
      limit: fc.integer({ min: 1, max: 5 }).map(String),
      offset: fc.integer({ min: 0, max: 200 }).map(String),
    },
    { requiredKeys: [] },
  )
  .chain((q) => encodingChoices.map((enc) => Object.entries(q).map(([k, v]) => `${k}=${encodeVariant(v, enc)}`).join('&')))
  .map((q) => (q ? `?${q}` : ''));
const query = fc.oneof(
  { weight: 8, arbitrary: sensible },
  { weight: 2, arbitrary: fc.constant('') },
  { weight: 6, arbitrary: fc.array(queryParam, { minLength: 1, maxLength: 5 }).map((q) => `?${q.join('&')}`) },
  { weight: 2, arbitrary: fc.array(fc.oneof(queryParam, rawQueryPiece), { minLength: 1, maxLength: 12 }).map((q) => `?${q.join('')}`) },
  // Past the limits: too many parameters, a value over 4096 bytes, a URL over 8192, one over Node's header limit.
  fc.constantFrom(`?${Array.from({ length: 60 }, (_, i) => `p${i}=1`).join('&')}`, `?fields=${'a'.repeat(5000)}`, `?x=${'b'.repeat(4000)}&y=${'c'.repeat(4500)}`, `?z=${'d'.repeat(20_000)}`),
);

const authorization = fc.oneof(
  { weight: 16, arbitrary: fc.constant('app') },
  { weight: 2, arbitrary: fc.constant('solo') },
  fc.constantFrom('', 'Bearer', 'Bearer ', 'Basic YXBwOmFwcC1zZWNyZXQtdmFsdWU=', 'bearer garbage', 'Bearer a.b.c', 'Bearer ' + 'x'.repeat(5000), 'Bearer eyJhbGciOiJub25lIn0.e30.'),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((n) => String.fromCharCode(n)), maxLength: 60 }),
);
const headerText = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((n) => String.fromCharCode(n)), maxLength: 40 });
const someHeaders = fc.record(
  {
    'x-district-id': fc.oneof(fc.constantFrom('one', 'two', 'nope', ' one ', ''), headerText),
    'cache-control': fc.constantFrom('no-cache', 'max-age=0', 'no-store', 'garbage'),
    pragma: fc.constant('no-cache'),
    'x-forwarded-host': fc.oneof(fc.constantFrom('gw.example.org', 'evil.example:8443', '[::1]', ''), headerText),
    'x-forwarded-proto': fc.constantFrom('https', 'http', 'gopher', ''),
    'x-request-id': fc.oneof(fc.constantFrom('req-1', 'a'.repeat(200)), headerText),
    accept: fc.constantFrom('application/json', 'text/html', '*/*', ''),
  },
  { requiredKeys: [] },
);
const host = fc.constantFrom('gw.example.org', 'a b', 'x:99999', '[::1', '\u00e9vil', 'h:1/p', '@x', 'localhost:0');
const extraHeaders = fc.oneof(
  { weight: 2, arbitrary: fc.constant({}) },
  { weight: 3, arbitrary: someHeaders },
  { weight: 1, arbitrary: fc.tuple(someHeaders, host).map(([h, value]): Record<string, string> => ({ ...h, host: value })) },
);

/** In an Authorization header, `app` and `solo` stand for those clients' tokens until the probe is sent. */
function headersFor(auth: string, extra: Record<string, string>): Record<string, string> {
  return { ...extra, ...(auth ? { authorization: auth } : {}) };
}

/** GET and HEAD on every read route, mostly well formed. */
export const readProbe = (ids: Ids) => fc
  .record({
    route: fc.constantFrom(...READS),
    values: fc.array(pathId(ids), { minLength: 1, maxLength: 3 }),
    damage: pathDamage,
    prefix,
    query,
    auth: authorization,
    extra: extraHeaders,
    head: fc.constantFrom(false, false, false, true),
  })
  .map((r): Probe => ({
    method: r.head ? 'HEAD' : 'GET',
    path: sendable(`${r.prefix}/ims/oneroster${r.damage(fill(r.route.path, r.values))}${r.query}`),
    headers: headersFor(r.auth, r.extra),
  }));

// ------------------------------------------------------------------------------------------
// Write bodies: shaped like the endpoint's record (its own fields with random values), or not
// ------------------------------------------------------------------------------------------

const guidRef = (ids: Ids) => fc.record({ sourcedId: fc.oneof(realId(ids), fc.string()), type: fc.constantFrom('user', 'lineItem', 'class', 'category', 'nope'), href: fc.constantFrom('x', 'http://evil.example/x') }, { requiredKeys: [] });
const fieldValue = (ids: Ids) => fc.oneof(fc.jsonValue({ maxDepth: 2 }), guidRef(ids), fc.array(guidRef(ids), { maxLength: 2 }), fc.constantFrom('active', 'tobedeleted', '2024-01-01', '2024-01-01T00:00:00Z', 'fully graded', 5, '5'));
function recordFor(e: Endpoint, v: Version, ids: Ids): fc.Arbitrary<Record<string, unknown>> {
  const entity = entityOfWrapper(e.wrapper);
  const names = entity ? Object.keys(fieldsOf(v, entity) ?? {}) : [];
  return names.length > 0 ? fc.dictionary(fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 6 })), fieldValue(ids), { maxKeys: 8 }) : fc.object();
}

/** Every write route with any method, content type and body; bodies mostly shaped like the route's record. */
export const writeProbe = (ids: Ids) => fc
  .constantFrom(...WRITES)
  .chain((route) => {
    const v: Version = route.path.startsWith('/v1p1') ? 'v1p1' : 'v1p2';
    const body = fc.oneof(
      { weight: 5, arbitrary: recordFor(route.endpoint, v, ids).map((r) => JSON.stringify({ [route.endpoint.wrapper]: r })) },
      fc.jsonValue().map((j) => JSON.stringify(j)),
      fc.constantFrom('', '{', 'null', '[]', '"x"', '{"result":null}', '{"__proto__":{"x":1}}', JSON.stringify({ x: 'y'.repeat(9000) })),
      anyText,
    );
    return fc.record({
      route: fc.constant(route),
      method: fc.oneof({ weight: 4, arbitrary: fc.constant(route.endpoint.method as string) }, fc.constantFrom('PUT', 'POST', 'DELETE', 'PATCH', 'GET', 'OPTIONS')),
      values: fc.array(pathId(ids), { minLength: 1, maxLength: 3 }),
      prefix,
      type: fc.oneof({ weight: 4, arbitrary: fc.constant('application/json') }, fc.constantFrom('application/json; charset=utf-8', 'application/vnd.ims+json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx', '', 'APPLICATION/JSON')),
      body,
      auth: authorization,
      extra: extraHeaders,
    });
  })
  .map((r): Probe => ({
    method: r.method,
    path: sendable(`${r.prefix}/ims/oneroster${fill(r.route.path, r.values)}`),
    headers: { ...headersFor(r.auth, r.extra), ...(r.type ? { 'content-type': r.type } : {}) },
    ...(r.method === 'GET' || r.method === 'OPTIONS' ? {} : { body: r.body }),
  }));

// ------------------------------------------------------------------------------------------
// POST /oauth/token
// ------------------------------------------------------------------------------------------

const scopeParam = fc.oneof(
  fc.tuple(fc.subarray([...SCOPES, 'nope', 'https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly', 'admin']), fc.constantFrom(' ', '  ', '\t')).map(([s, sep]) => s.join(sep)),
  anyText,
);
/** POST /oauth/token (and other methods) with form, JSON or raw bodies and any client, grant, scope. */
export const tokenProbe = (appSecret: string) => fc
  .record({
    grant: fc.option(fc.oneof(fc.constantFrom('client_credentials', 'password', 'authorization_code', '', 'CLIENT_CREDENTIALS'), anyText), { freq: 6 }),
    clientId: fc.option(fc.oneof(fc.constantFrom('app', 'solo', 'nobody', ''), anyText), { freq: 6 }),
    clientSecret: fc.option(fc.oneof(fc.constantFrom(appSecret, 'wrong', ''), anyText), { freq: 6 }),
    scope: fc.option(scopeParam, { freq: 2 }),
    extra: fc.array(fc.tuple(fc.oneof(fc.constantFrom('grant_type', 'client_id', 'scope'), fc.string({ maxLength: 6 })), anyText), { maxLength: 2 }),
    format: fc.constantFrom('form', 'form', 'form', 'json', 'raw'),
    raw: fc.oneof(anyText, fc.array(rawQueryPiece, { maxLength: 12 }).map((p) => p.join('')), fc.constant('a'.repeat(9000))),
    type: fc.oneof({ weight: 4, arbitrary: fc.constant('') }, fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded; charset=utf-8', 'multipart/form-data', 'none')),
    basic: fc.option(fc.oneof(fc.constantFrom(`Basic ${Buffer.from(`app:${appSecret}`).toString('base64')}`, 'Basic', 'Basic !!!', 'Bearer x', `Basic ${Buffer.from('app').toString('base64')}`), anyText.map((t) => `Basic ${Buffer.from(t).toString('base64')}`), headerText), { freq: 4 }),
    method: fc.oneof({ weight: 9, arbitrary: fc.constant('POST') }, fc.constantFrom('GET', 'PUT', 'DELETE', 'HEAD')),
    enc: encodingChoices,
  })
  .map((r): Probe => {
    const pairs: Array<[string, string]> = [];
    if (r.grant !== null) pairs.push(['grant_type', r.grant]);
    if (r.clientId !== null) pairs.push(['client_id', r.clientId]);
    if (r.clientSecret !== null) pairs.push(['client_secret', r.clientSecret]);
    if (r.scope !== null) pairs.push(['scope', r.scope]);
    pairs.push(...r.extra);
    const body =
      r.format === 'form' ? pairs.map(([k, v]) => `${encodeVariant(k, r.enc)}=${encodeVariant(v, r.enc)}`).join('&')
        : r.format === 'json' ? JSON.stringify(Object.fromEntries(pairs))
          : r.raw;
    const type = r.type === 'none' ? undefined : r.type || (r.format === 'json' ? 'application/json' : 'application/x-www-form-urlencoded');
    const headers: Record<string, string> = { ...(type ? { 'content-type': type } : {}), ...(r.basic !== null ? { authorization: r.basic } : {}) };
    return { method: r.method, path: '/oauth/token', headers, ...(r.method === 'GET' || r.method === 'HEAD' ? {} : { body }) };
  });

// ------------------------------------------------------------------------------------------
// Anything at all: any method on any path
// ------------------------------------------------------------------------------------------

const latin1Path = fc.string({ unit: fc.integer({ min: 0x21, max: 0xff }).map((n) => String.fromCharCode(n)), maxLength: 40 });
/** Any method on any path, the admin API included (`adminToken` is the configured one). */
export const anyProbe = (adminToken: string) => fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'PROPFIND', 'TRACE', 'M-SEARCH'),
    base: fc.constantFrom(
      '/', '/healthz', '/readyz', '/metrics', '/districts', '/districts/one', '/admin', '/admin/districts/one/sync', '/admin/districts/nope/sync',
      '/admin/cache/districts/one', '/admin/cache/districts/two/users', '/admin/cache/districts/one/users/usr-00001', '/admin/cache/districts/%zz',
      '/oauth', '/ims', '/ims/oneroster', '/ims/oneroster/', '/districts/one/ims/oneroster', '/favicon.ico', '//', '/%', '/%zz', '/..%2f', '/ims/oneroster/v1p1',
    ),
    tail: fc.oneof(fc.constant(''), latin1Path.map((s) => (s.startsWith('/') ? s : `/${s}`)), latin1Path.map((s) => `?${s}`)),
    auth: authorization,
    extra: extraHeaders,
    admin: fc.option(fc.oneof(fc.constantFrom(`Bearer ${adminToken}`, `Bearer ${adminToken}`, 'Bearer x', `Bearer ${'a'.repeat(30)}`), headerText), { freq: 3 }),
    body: fc.option(anyText, { freq: 2 }),
    type: fc.constantFrom('application/json', 'text/plain', ''),
  })
  .map((r): Probe => ({
    method: r.method,
    path: sendable(r.base + r.tail),
    headers: { ...headersFor(r.auth, r.extra), ...(r.admin !== null ? { authorization: r.admin } : {}), ...(r.type ? { 'content-type': r.type } : {}) },
    ...(r.body !== null && r.method !== 'GET' && r.method !== 'HEAD' ? { body: r.body } : {}),
  }));
