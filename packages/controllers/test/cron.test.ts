import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CronParseError, formatRfc3339InZone, parseCronSchedule } from '../src/cron.js';

/** The next `n` activations after `from`, printed in `zone`. */
function runs(spec: string, from: string, zone = 'UTC', n = 4): string[] {
  const schedule = parseCronSchedule(spec, zone);
  const out: string[] = [];
  let t = Date.parse(from);
  for (let i = 0; i < n; i++) {
    const next = schedule.next(t);
    if (next === undefined) break;
    out.push(formatRfc3339InZone(next, zone));
    t = next;
  }
  return out;
}

describe('cron schedules (robfig/cron standard parser)', () => {
  it('steps, ranges, lists and names', () => {
    assert.deepEqual(runs('*/15 * * * *', '2026-01-01T00:07:00Z'), ['2026-01-01T00:15:00Z', '2026-01-01T00:30:00Z', '2026-01-01T00:45:00Z', '2026-01-01T01:00:00Z']);
    assert.deepEqual(runs('5 4-6 * * *', '2026-01-01T05:00:00Z', 'UTC', 3), ['2026-01-01T05:05:00Z', '2026-01-01T06:05:00Z', '2026-01-02T04:05:00Z']);
    assert.deepEqual(runs('0 12 * JAN,mar SUN', '2026-01-01T00:00:00Z', 'UTC', 3), ['2026-01-04T12:00:00Z', '2026-01-11T12:00:00Z', '2026-01-18T12:00:00Z']);
    assert.deepEqual(runs('30 10 1 */6 *', '2026-01-05T00:00:00Z', 'UTC', 2), ['2026-07-01T10:30:00Z', '2027-01-01T10:30:00Z']);
  });

  it('matches day of month OR day of week when both are restricted, AND when one is *', () => {
    // 1 January 2026 is a Thursday: the 1st/15th or any Wednesday.
    assert.deepEqual(runs('0 0 1,15 * 3', '2026-01-01T00:00:00Z'), ['2026-01-07T00:00:00Z', '2026-01-14T00:00:00Z', '2026-01-15T00:00:00Z', '2026-01-21T00:00:00Z']);
    // `*/2` is a restriction, not "every": odd days only, AND with dow `*`.
    assert.deepEqual(runs('0 0 */2 * *', '2026-01-30T00:00:00Z'), ['2026-01-31T00:00:00Z', '2026-02-01T00:00:00Z', '2026-02-03T00:00:00Z', '2026-02-05T00:00:00Z']);
  });

  it('descriptors and @every', () => {
    assert.deepEqual(runs('@hourly', '2026-01-01T00:00:00Z', 'Asia/Kolkata', 2), ['2026-01-01T06:00:00+05:30', '2026-01-01T07:00:00+05:30']);
    assert.deepEqual(runs('@weekly', '2026-01-01T00:00:00Z', 'UTC', 1), ['2026-01-04T00:00:00Z']);
    assert.deepEqual(runs('@yearly', '2026-01-01T00:00:00Z', 'UTC', 1), ['2027-01-01T00:00:00Z']);
    assert.deepEqual(runs('@every 90s', '2026-01-01T00:00:00.500Z', 'UTC', 2), ['2026-01-01T00:01:30Z', '2026-01-01T00:03:00Z']);
  });

  it('time zones and daylight saving as Go computes them', () => {
    assert.deepEqual(runs('0 9 * * mon-fri', '2026-01-02T10:00:00Z', 'America/New_York', 2), ['2026-01-02T09:00:00-05:00', '2026-01-05T09:00:00-05:00']);
    // 02:30 does not exist on 8 March 2026 in New York: that day is skipped.
    assert.deepEqual(runs('30 2 * * *', '2026-03-07T12:00:00Z', 'America/New_York', 2), ['2026-03-09T02:30:00-04:00', '2026-03-10T02:30:00-04:00']);
    // 01:30 happens twice on 1 November 2026: robfig runs both.
    assert.deepEqual(runs('30 1 * * *', '2026-10-31T12:00:00Z', 'America/New_York', 3), ['2026-11-01T01:30:00-04:00', '2026-11-01T01:30:00-05:00', '2026-11-02T01:30:00-05:00']);
    assert.deepEqual(runs('TZ=Asia/Tokyo 0 0 * * *', '2026-01-01T00:00:00Z', 'UTC', 1), ['2026-01-01T15:00:00Z']);
  });

  it('a valid schedule that never fires has no next time', () => {
    assert.deepEqual(runs('59 23 31 2 *', '2026-01-01T00:00:00Z'), []);
  });

  it('refuses malformed schedules with robfig wording', () => {
    const refuse = (spec: string, message: string) => assert.throws(() => parseCronSchedule(spec, 'UTC'), (err: Error) => err instanceof CronParseError && err.message === message);
    refuse('* * * *', 'expected exactly 5 fields, found 4: [* * * *]');
    refuse('61 * * * *', 'end of range (61) above maximum (59): 61');
    refuse('* * * * 7', 'end of range (7) above maximum (6): 7');
    refuse('@fortnightly', 'unrecognized descriptor: @fortnightly');
    refuse('TZ=Mars/Olympus * * * * *', 'provided bad location Mars/Olympus: unknown time zone Mars/Olympus');
    refuse('*/0 * * * *', 'step of range should be a positive number: */0');
  });
});
