// The district's health is a step of its upstream chain, recorded in src/upstream/health.ts.
export { createHealth, withHealth, type DistrictHealth, type HealthRecorder } from '../upstream/health.js';
