// Gradebook data: categories, line items per class, results for a subset of students, and
// the 1.2-only score scales and assessments. Results are capped so very large rosters stay
// quick to generate.

import { dateBetween, modifiedBefore, SCHOOL_YEAR } from './generate-dates.js';
import { intBetween, pad, pick, sample, streamFor, type Rng } from './prng.js';
import type {
  AssessmentLineItemRecord,
  AssessmentResultRecord,
  CategoryRecord,
  ClassRecord,
  EnrollmentRecord,
  LineItemRecord,
  ResultRecord,
  ScoreScaleRecord,
} from './records.js';

const MAX_RESULTS = 6000;
const SCALED_CLASSES = 4;

export interface Gradebook {
  categories: CategoryRecord[];
  lineItems: LineItemRecord[];
  results: ResultRecord[];
  scoreScales: ScoreScaleRecord[];
  assessmentLineItems: AssessmentLineItemRecord[];
  assessmentResults: AssessmentResultRecord[];
}

const CATEGORIES = [['Homework', 0.2], ['Quizzes', 0.15], ['Tests', 0.35], ['Projects', 0.2], ['Participation', 0.1]] as const;
const ASSIGNMENTS = [
  ['Unit 1 Homework', 0], ['Unit 1 Quiz', 1], ['Midterm Exam', 2], ['Research Project', 3],
  ['Unit 2 Homework', 0], ['Unit 2 Quiz', 1], ['Class Participation', 4], ['Final Exam', 2],
] as const;
const LETTERS = [['A', '90-100'], ['B', '80-89'], ['C', '70-79'], ['D', '60-69'], ['F', '0-59']] as const;

export function generateGradebook(seed: number, classes: readonly ClassRecord[], enrollments: readonly EnrollmentRecord[]): Gradebook {
  const rng = streamFor(seed, 'gradebook');
  const categories = CATEGORIES.map(([title, weight], i): CategoryRecord => ({
    sourcedId: `cat-${pad(i + 1, 2)}`, status: 'active', dateLastModified: modifiedBefore(rng), title, weight,
  }));
  const scoreScales = classes.slice(0, SCALED_CLASSES).map((c, i) => scoreScale(rng, c, i));
  const lineItems = generateLineItems(rng, classes, categories, scoreScales);
  const students = activeStudentsByClass(enrollments);
  const assessmentLineItems = generateAssessmentLineItems(rng);
  return {
    categories,
    lineItems,
    results: generateResults(streamFor(seed, 'results'), lineItems, students, scoreScales),
    scoreScales,
    assessmentLineItems,
    assessmentResults: generateAssessmentResults(streamFor(seed, 'assessments'), assessmentLineItems, [...new Set([...students.values()].flat())]),
  };
}

function scoreScale(rng: Rng, c: ClassRecord, i: number): ScoreScaleRecord {
  return {
    sourcedId: `ss-${pad(i + 1, 2)}`,
    status: 'active',
    dateLastModified: modifiedBefore(rng),
    title: 'Letter Grades (A-F)',
    type: 'letter',
    courseId: c.courseId,
    classId: c.sourcedId,
    scoreScaleValue: LETTERS.map(([lhs, rhs]) => ({ itemValueLHS: lhs, itemValueRHS: rhs })),
  };
}

function generateLineItems(rng: Rng, classes: readonly ClassRecord[], categories: CategoryRecord[], scales: ScoreScaleRecord[]): LineItemRecord[] {
  const items: LineItemRecord[] = [];
  for (const c of classes) {
    const terms = SCHOOL_YEAR.terms.filter((t) => c.termIds.includes(t.id));
    const scale = scales.find((s) => s.classId === c.sourcedId);
    for (const [title, cat] of ASSIGNMENTS.slice(0, intBetween(rng, 3, 4))) {
      const term = pick(rng, terms.length > 0 ? terms : SCHOOL_YEAR.terms);
      const gp = pick(rng, term.gradingPeriods);
      const assign = dateBetween(rng, gp.startDate, gp.endDate);
      const quiz = cat === 1;
      items.push({
        sourcedId: `li-${pad(items.length + 1, 4)}`,
        status: 'active',
        dateLastModified: modifiedBefore(rng),
        title,
        description: `${title} for ${c.title}`,
        assignDate: `${assign}T08:00:00.000Z`,
        dueDate: `${dateBetween(rng, assign, gp.endDate)}T23:59:00.000Z`,
        classId: c.sourcedId,
        schoolId: c.schoolId,
        categoryId: (categories[cat] as CategoryRecord).sourcedId,
        gradingPeriodId: gp.id,
        academicSessionId: term.id,
        ...(scale ? { scoreScaleId: scale.sourcedId } : {}),
        resultValueMin: 0,
        resultValueMax: quiz ? 10 : 100,
      });
    }
  }
  return items;
}

function activeStudentsByClass(enrollments: readonly EnrollmentRecord[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of enrollments) {
    if (e.role !== 'student' || e.status !== 'active') continue;
    const bucket = out.get(e.classId);
    if (bucket) bucket.push(e.userId);
    else out.set(e.classId, [e.userId]);
  }
  return out;
}

const STATUSES = [['fully graded', 0.7], ['partially graded', 0.08], ['submitted', 0.08], ['not submitted', 0.08], ['exempt', 0.06]] as const;

function scoreStatus(rng: Rng): string {
  let x = rng();
  for (const [status, p] of STATUSES) if ((x -= p) < 0) return status;
  return 'fully graded';
}

function generateResults(rng: Rng, items: LineItemRecord[], students: Map<string, string[]>, scales: ScoreScaleRecord[]): ResultRecord[] {
  const results: ResultRecord[] = [];
  for (const li of items) {
    for (const studentId of students.get(li.classId) ?? []) {
      if (results.length >= MAX_RESULTS) return results;
      if (rng() < 0.4) continue;
      results.push(result(rng, `res-${pad(results.length + 1, 6)}`, li, studentId, scales));
    }
  }
  return results;
}

function result(rng: Rng, sourcedId: string, li: LineItemRecord, studentId: string, scales: ScoreScaleRecord[]): ResultRecord {
  const status = scoreStatus(rng);
  const max = li.resultValueMax ?? 100;
  const graded = status === 'fully graded' || status === 'partially graded';
  const score = graded ? Math.round((max * 0.5 + rng() * max * 0.5) * 10) / 10 : 0;
  const scale = scales.find((s) => s.sourcedId === li.scoreScaleId);
  const pct = (score / max) * 100;
  const letter = pct >= 90 ? 'A' : pct >= 80 ? 'B' : pct >= 70 ? 'C' : pct >= 60 ? 'D' : 'F';
  return {
    sourcedId,
    status: 'active',
    dateLastModified: modifiedBefore(rng),
    lineItemId: li.sourcedId,
    studentId,
    classId: li.classId,
    scoreStatus: status,
    ...(status === 'exempt' ? {} : { score }),
    ...(scale && graded ? { textScore: letter, scoreScaleId: scale.sourcedId } : {}),
    scoreDate: li.dueDate.slice(0, 10),
    ...(rng() < 0.1 ? { comment: pick(rng, ['Great work!', 'See me about corrections.', "Late, but it's solid work."]) } : {}),
    inProgress: status === 'partially graded' ? 'true' : 'false',
    incomplete: status === 'partially graded' ? 'true' : 'false',
    late: rng() < 0.05 ? 'true' : 'false',
    missing: status === 'not submitted' ? 'true' : 'false',
  };
}

function generateAssessmentLineItems(rng: Rng): AssessmentLineItemRecord[] {
  const titles = ['Fall Benchmark - Mathematics', 'Fall Benchmark - Reading', 'Spring State Practice Test'];
  return titles.map((title, i) => ({
    sourcedId: `ali-${pad(i + 1, 2)}`,
    status: 'active',
    dateLastModified: modifiedBefore(rng),
    title,
    description: `District-wide ${title.toLowerCase()}`,
    resultValueMin: 100,
    resultValueMax: 300,
  }));
}

function generateAssessmentResults(rng: Rng, items: AssessmentLineItemRecord[], studentIds: string[]): AssessmentResultRecord[] {
  const out: AssessmentResultRecord[] = [];
  for (const ali of items) {
    for (const studentId of sample(rng, studentIds, 30)) {
      out.push({
        sourcedId: `ar-${pad(out.length + 1, 4)}`,
        status: 'active',
        dateLastModified: modifiedBefore(rng),
        assessmentLineItemId: ali.sourcedId,
        studentId,
        scoreStatus: 'fully graded',
        score: intBetween(rng, 120, 290),
        scorePercentile: intBetween(rng, 1, 99),
        scoreDate: dateBetween(rng, '2024-09-16', '2025-05-16'),
      });
    }
  }
  return out;
}
