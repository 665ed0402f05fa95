// Google Classroom's public OneRoster 1.2 conformance flow (googleworkspace/oneroster-
// integration-conformance-tests, oneroster_1_2_test_suite.ipynb), run by an OAuth2 1.2 app
// through the gateway against 1.1 districts: one signed directly with OAuth 1.0a, one
// reached through the ClassLink OneRoster proxy. Google takes the grading category from
// GET /gradebook/v1p2/classes/{id}/categories, a route 1.1 does not have, so the gateway
// derives it; everything else goes through its version translation. The steps and checks
// follow the notebook; the per-class and per-student read-backs and the 404s after the
// deletes are this suite's own additions.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClassLinkFake, type ClassLinkFake } from '../../src/sandbox/classlink.js';
import { startSandbox, type TestSandbox } from '../../src/sandbox/testing.js';
import { oauth1Sandbox, startStack, type Stack } from '../helpers/stack.js';

const DEV_TOKEN = 'classlink-developer-token-gc';
// The suite's token request: client credentials with HTTP Basic, these four scopes as URIs.
const SUITE_SCOPES = ['roster.readonly', 'gradebook.readonly', 'gradebook.createput', 'gradebook.delete'];
const SCOPE_URIS = SUITE_SCOPES.map((s) => `https://purl.imsglobal.org/spec/or/v1p2/scope/${s}`).join(' ');

let stack: Stack;
let fake: ClassLinkFake;
let behindClassLink: TestSandbox;

beforeAll(async () => {
  behindClassLink = await startSandbox({ version: 'v1p1', auth: { type: 'bearer', token: 'tenant-upstream' }, users: 120, seed: 7 });
  fake = await startClassLinkFake({
    developerToken: DEV_TOKEN,
    tenants: [{ tenantId: 4242, tenantName: 'Proxy District', applicationId: 'R2MxMQ%3D%3D', bearer: 'tenant-bearer', upstream: behindClassLink, upstreamToken: 'tenant-upstream' }],
  });
  stack = await startStack({
    districts: [{ id: 'direct', sandbox: oauth1Sandbox() }],
    clients: [{ clientId: 'classroom', clientSecret: 'classroom-secret', districts: ['*'], scopes: SUITE_SCOPES }],
    extra: { classlink: { discoveryUrl: `${fake.url}/applications`, proxyBaseUrl: fake.url, token: DEV_TOKEN, refreshSeconds: 3600 } },
  });
});
afterAll(async () => {
  await stack?.close();
  await fake?.close();
  await behindClassLink?.close();
});

type Rec = Record<string, any>;

/** A teacher of a class that has students: the suite's configured `teacher_email_address`. */
function teacherEmail(sb: TestSandbox): string {
  const enrollments = sb.store.list('enrollments').filter((e) => e.status === 'active');
  const withStudents = new Set(enrollments.filter((e) => e.role === 'student').map((e) => e.classId));
  const teaching = enrollments.filter((e) => e.role === 'teacher' && withStudents.has(e.classId));
  // Their first class (in the order /teachers/{id}/classes lists them) must have students.
  const teacher = teaching.map((e) => sb.store.get('users', e.userId)!).find((u) => {
    const classes = teaching.filter((e) => e.userId === u.sourcedId).map((e) => e.classId).sort();
    return withStudents.has(classes[0]!);
  })!;
  return teacher.email;
}

async function suiteToken(): Promise<string> {
  const res = await stack.http
    .post('/oauth/token')
    .auth('classroom', 'classroom-secret')
    .type('form')
    .send(new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPE_URIS }).toString());
  expect(res.status, 'Get OAuth Token').toBe(200);
  return res.body.access_token as string;
}

/** The notebook, step by step, against `root` (the gateway's URL of one district ending in /ims/oneroster). */
async function runSuite(root: string, email: string, upstream: TestSandbox) {
  const token = await suiteToken();
  const bearer = { authorization: `Bearer ${token}` };
  const get = (path: string) => stack.http.get(`${root}${path}`).set(bearer);
  const put = (path: string, body: unknown) => stack.http.put(`${root}${path}`).set(bearer).set('content-type', 'application/json').send(JSON.stringify(body));
  const del = (path: string) => stack.http.delete(`${root}${path}`).set(bearer);

  // GetAllTeachers
  expect((await get('/rostering/v1p2/teachers?limit=1')).status, 'GetAllTeachers').toBe(200);
  // GetAllTeachers with email filter: exactly one, with email and sourcedId.
  const teachers = await get(`/rostering/v1p2/teachers?filter=${encodeURIComponent(`email='${email}'`)}&limit=10000`);
  expect(teachers.status, 'GetAllTeachers w/ email filter').toBe(200);
  expect(teachers.body.users).toHaveLength(1);
  expect(Object.keys(teachers.body.users[0])).toEqual(expect.arrayContaining(['email', 'sourcedId']));
  const teacherId = teachers.body.users[0].sourcedId as string;

  // GetClassesForTeacher
  const classes = await get(`/rostering/v1p2/teachers/${teacherId}/classes?limit=10000&filter=${encodeURIComponent("status='active'")}`);
  expect(classes.status, 'GetClassesForTeacher').toBe(200);
  const klass = classes.body.classes[0] as Rec;
  const classId = klass.sourcedId as string;
  const schoolId = klass.school.sourcedId as string;
  const termId = klass.terms[0].sourcedId as string;

  // GetStudentsForClass
  const students = await get(`/rostering/v1p2/classes/${classId}/students?limit=10000`);
  expect(students.status, 'GetStudentsForClass').toBe(200);
  expect(students.body.users.length).toBeGreaterThan(0);
  expect(Object.keys(students.body.users[0])).toEqual(expect.arrayContaining(['email', 'sourcedId']));
  const studentId = students.body.users[0].sourcedId as string;
  // (Not in the notebook) the student's enrollment in the class, as a sync would read it.
  const enrollments = await get(`/rostering/v1p2/enrollments?filter=${encodeURIComponent(`user.sourcedId='${studentId}'`)}&limit=10000`);
  expect(enrollments.status).toBe(200);
  expect(enrollments.body.enrollments).toContainEqual(expect.objectContaining({ role: 'student', class: expect.objectContaining({ sourcedId: classId }) }));

  // GetCategoriesForClass: the notebook sends its token form along with this GET.
  const before = upstream.hits.length;
  const categories = await stack.http
    .get(`${root}/gradebook/v1p2/classes/${classId}/categories?limit=10000`)
    .set(bearer)
    .type('form')
    .send(new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPE_URIS }).toString());
  expect(categories.status, `GetCategoriesForClass: ${categories.text.slice(0, 200)}`).toBe(200);
  expect(categories.body.categories.length).toBeGreaterThan(0);
  const categoryId = categories.body.categories[0].sourcedId as string;
  // Derived from the district's 1.1 data: its line items of the class, then its categories.
  expect(upstream.hits.slice(before).map((h) => h.path.replace(/^.*\/ims\/oneroster/, ''))).toEqual([`/v1p1/classes/${classId}/lineItems`, '/v1p1/categories']);

  // GetGradingPeriodsForTerm
  const periods = await get(`/rostering/v1p2/terms/${termId}/gradingPeriods?limit=10000`);
  expect(periods.status, 'GetGradingPeriodsForTerm').toBe(200);
  expect(Object.keys(periods.body.academicSessions[0])).toEqual(expect.arrayContaining(['sourcedId', 'title', 'startDate', 'endDate', 'schoolYear']));
  for (const p of periods.body.academicSessions) expect(p.type).toBe('gradingPeriod');

  // PutLineItem Create: 201.
  const lineItemId = randomUUID();
  const now = new Date();
  const assignDate = now.toISOString();
  const dueDate = new Date(now.getTime() + 60_000).toISOString();
  const lineItem = (title: string) => ({
    lineItem: {
      sourcedId: lineItemId, title, description: 'Test Line Item', resultValueMin: 0, resultValueMax: 100, assignDate, dueDate,
      class: { sourcedId: classId }, category: { sourcedId: categoryId }, school: { sourcedId: schoolId },
    },
  });
  const created = await put(`/gradebook/v1p2/lineItems/${lineItemId}`, lineItem('New test item'));
  expect(created.status, `PutLineItem Create: ${created.text.slice(0, 200)}`).toBe(201);
  // The write reached the district.
  expect(upstream.store.get('lineItems', lineItemId)).toMatchObject({ classId, categoryId });

  // GetLineItemsForClass: the created line item is there.
  const items = await get(`/gradebook/v1p2/classes/${classId}/lineItems?limit=10000`);
  expect(items.status, 'GetLineItemsForClass').toBe(200);
  expect(items.body.lineItems.map((li: Rec) => li.sourcedId)).toContain(lineItemId);
  // Read back on its own too.
  const single = await get(`/gradebook/v1p2/lineItems/${lineItemId}`);
  expect(single.status).toBe(200);
  expect(single.body.lineItem).toMatchObject({ sourcedId: lineItemId, title: 'New test item', class: { sourcedId: classId }, category: { sourcedId: categoryId } });

  // PutLineItem Edit (a long title): 200 or 201 (the notebook notes 200 is right).
  const longTitle = '[Amended] Reallllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllly Long Google Test Line Item Title';
  const edited = await put(`/gradebook/v1p2/lineItems/${lineItemId}`, lineItem(longTitle));
  expect([200, 201], 'PutLineItem Edit').toContain(edited.status);
  expect(edited.status).toBe(200);
  // Get (Assignment Title Limit): the title comes back whole.
  const titled = (await get(`/gradebook/v1p2/classes/${classId}/lineItems?limit=10000`)).body.lineItems.find((li: Rec) => li.sourcedId === lineItemId);
  expect(titled.title).toBe(longTitle);

  // PutResult Create, then Edit (score 300: extra credit), then Exempt.
  const resultId = randomUUID();
  const result = (score: number, scoreStatus: string) => ({
    result: { sourcedId: resultId, score, comment: '', scoreStatus, scoreDate: assignDate, lineItem: { sourcedId: lineItemId }, student: { sourcedId: studentId } },
  });
  const resultsOfItem = async () => {
    const res = await get(`/gradebook/v1p2/classes/${classId}/lineItems/${lineItemId}/results?limit=10000`);
    expect(res.status, 'GetResultsForLineItem').toBe(200);
    return res.body.results as Rec[];
  };
  const ofResult = (list: Rec[]) => list.find((r) => r.sourcedId === resultId);

  expect([200, 201], 'PutResult Create').toContain((await put(`/gradebook/v1p2/results/${resultId}`, result(80, 'fully graded'))).status);
  expect(ofResult(await resultsOfItem())).toMatchObject({ score: 80, scoreStatus: 'fully graded', student: { sourcedId: studentId } });

  expect([200, 201], 'PutResult Edit').toContain((await put(`/gradebook/v1p2/results/${resultId}`, result(300, 'fully graded'))).status);
  expect(ofResult(await resultsOfItem())?.score, 'Result extra credit OK').toBe(300);

  expect([200, 201], 'PutResult Exempt').toContain((await put(`/gradebook/v1p2/results/${resultId}`, result(80, 'exempt'))).status);
  expect(ofResult(await resultsOfItem())?.scoreStatus, 'Returned excused state').toBe('exempt');

  // Read back per class and per student as well.
  const ofClass = await get(`/gradebook/v1p2/classes/${classId}/results?limit=10000`);
  expect(ofClass.status).toBe(200);
  expect(ofResult(ofClass.body.results)).toMatchObject({ scoreStatus: 'exempt', lineItem: { sourcedId: lineItemId } });
  const ofStudent = await get(`/gradebook/v1p2/classes/${classId}/students/${studentId}/results?limit=10000`);
  expect(ofStudent.status).toBe(200);
  expect(ofResult(ofStudent.body.results)).toMatchObject({ scoreStatus: 'exempt' });
  expect((await get(`/gradebook/v1p2/results/${resultId}`)).body.result).toMatchObject({ sourcedId: resultId, scoreStatus: 'exempt' });

  // DeleteResult, then it is gone.
  expect([200, 204], 'DeleteResult').toContain((await del(`/gradebook/v1p2/results/${resultId}`)).status);
  expect(ofResult(await resultsOfItem()), 'Result deleted').toBeUndefined();
  expect(ofResult((await get(`/gradebook/v1p2/classes/${classId}/results?limit=10000`)).body.results)).toBeUndefined();
  expect(ofResult((await get(`/gradebook/v1p2/classes/${classId}/students/${studentId}/results?limit=10000`)).body.results)).toBeUndefined();
  expect((await get(`/gradebook/v1p2/results/${resultId}`)).status).toBe(404);

  // DeleteLineItem, then it is gone.
  expect([200, 204], 'DeleteLineItem').toContain((await del(`/gradebook/v1p2/lineItems/${lineItemId}`)).status);
  const after = await get(`/gradebook/v1p2/classes/${classId}/lineItems?limit=10000`);
  expect(after.body.lineItems.map((li: Rec) => li.sourcedId), 'Line item deleted').not.toContain(lineItemId);
  expect((await get(`/gradebook/v1p2/lineItems/${lineItemId}`)).status).toBe(404);
  expect(upstream.store.get('lineItems', lineItemId)).toBeUndefined();
  expect(upstream.store.get('results', resultId)).toBeUndefined();
}

describe("Google Classroom's OneRoster 1.2 flow through the gateway", () => {
  it('passes against a 1.1 district signed with OAuth 1.0a', async () => {
    const sb = stack.sandboxes.direct!;
    await runSuite('/districts/direct/ims/oneroster', teacherEmail(sb), sb);
    // Every request reached the district signed (the sandbox verifies OAuth 1.0a for real).
    expect(sb.hits.every((h) => h.authorized)).toBe(true);
  });

  it('passes against a 1.1 district behind the ClassLink OneRoster proxy', async () => {
    fake.resetHits();
    behindClassLink.resetHits();
    await runSuite('/districts/classlink-4242/ims/oneroster', teacherEmail(behindClassLink), behindClassLink);
    // All of it went through the proxy, nothing around it.
    expect(fake.hits().data).toBeGreaterThan(0);
    expect(fake.hits().data).toBe(behindClassLink.hits.length);
  });
});
