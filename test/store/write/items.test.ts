/**
 * The writer's items (src/store/write/items.ts): the tuple positions the writer reads are the
 * positions the builders write, field by field, so that reordering one side cannot misread.
 */
import test from 'ava';
import {
  CALL,
  DOC,
  wireCall,
  wireDoc,
  type CallFields,
  type DocFields,
} from '../../../src/store/write/items.js';

const call: CallFields = {
  subId: 'sub',
  startTime: 1,
  endTime: 2,
  httpStatus: 403,
  outcome: 'denied',
  errorType: 'AccessDenied',
  via: 'sdk',
};
const doc: DocFields = {
  traceId: 'trace',
  id: 'id',
  type: 'subsegment',
  parentId: 'parent',
  name: 'name',
  origin: 'origin',
  startTime: 10,
  endTime: 20,
  inProgress: true,
  nodeIds: ['node'],
};

for (const [field, position] of Object.entries(CALL)) {
  test(`a call's ${field} is read where it is written`, (t) => {
    const expected = field === 'target' ? 7 : call[field as keyof CallFields];
    t.is(wireCall(call, 7)[position], expected);
  });
}

for (const [field, position] of Object.entries(DOC)) {
  test(`a document's ${field} is read where it is written`, (t) => {
    const calls = [wireCall(call, 7)];
    const d = wireDoc(doc, 3, calls, 5, 0);
    const expected: Record<string, unknown> = {
      ...doc,
      inProgress: 1,
      workload: 3,
      calls,
      fallback: 5,
      keep: 0,
    };
    t.deepEqual(d[position], expected[field]);
  });
}

test('every position is used once', (t) => {
  for (const positions of [Object.values(CALL), Object.values(DOC)]) {
    t.deepEqual(
      [...positions].sort((a, b) => a - b),
      positions.map((_p, i) => i),
    );
  }
});
