import { describe, expect, it } from 'vitest';
import { newTask } from '../src/core/new-task.js';
import { compactTask, expandTask, OMITTABLE_TASK_FIELDS } from '../src/domain/compact-task.js';

describe('compact tasks', () => {
  const now = 1_790_000_000_000;

  it('leave out every field at its empty value and expand to the same task', () => {
    const task = newTask({ name: 'plain' }, now);
    const compact = compactTask(task);
    expect(Object.keys(compact).filter((key) => (OMITTABLE_TASK_FIELDS as string[]).includes(key))).toEqual(['queue', 'queuedAt']);
    expect(expandTask(compact)).toEqual(task);
  });

  it('keep empty lists and objects where they are data, and every value that is not empty', () => {
    const task = {
      ...newTask({ name: 'full', input: {}, tags: ['a'], execution: { script: 'run.py' }, comment: '' }, now),
      result: [],
      progress: 0,
      error: '',
    };
    const compact = compactTask(task);
    expect(compact).toMatchObject({ input: {}, result: [], progress: 0, error: '', comment: '', tags: ['a'] });
    expect(expandTask(compact)).toEqual(task);
  });
});
