/** The line diff the console shows before an apply. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { comparable, countChanges, diffLines, hunks } from '../src/components/diff.js';

test('unchanged, added, removed and replaced lines, numbered in both texts', () => {
  const lines = diffLines('a\nb\nc\nd\n', 'a\nc\nx\nd\ne\n');
  assert.deepEqual(
    lines.map((l) => `${l.kind[0]}${l.oldNumber ?? '-'}${l.newNumber ?? '-'} ${l.text}`),
    ['s11 a', 'r2- b', 's32 c', 'a-3 x', 's44 d', 'a-5 e'],
  );
  assert.deepEqual(countChanges(lines), { added: 2, removed: 1 });
});

test('creating shows every line added; identical texts show no change', () => {
  assert.deepEqual(countChanges(diffLines('', 'a\nb\n')), { added: 2, removed: 0 });
  assert.deepEqual(hunks(diffLines('a\nb\n', 'a\nb\n')), []);
});

test('far-apart changes become separate hunks with three lines of context', () => {
  const before = Array.from({ length: 30 }, (_, i) => `line ${i}`);
  const after = before.map((l, i) => (i === 2 || i === 25 ? `${l} changed` : l));
  const parts = hunks(diffLines(before.join('\n'), after.join('\n')));
  assert.equal(parts.length, 2);
  assert.equal(parts[0].lines[0].text, 'line 0');
  assert.equal(parts[1].lines[0].text, 'line 22');
  assert.equal(parts[1].lines.at(-1)!.text, 'line 28');
});

test('what the server changes on every write is not compared, and passwords are masked', () => {
  const text = comparable({
    metadata: { name: 'u', resourceVersion: '7', generation: 2, managedFields: [{}] },
    spec: { password: 'secret' },
    status: { state: 'Active' },
  });
  assert.doesNotMatch(text, /resourceVersion|generation|managedFields|status|secret/);
  assert.match(text, /password: "\*{8}"/);
});
