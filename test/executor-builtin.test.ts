import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILTIN_MODELS } from '../src/domain/builtin-models.js';
import { BuiltinExecutor } from '../src/executors/builtin/builtin-executor.js';
import type { ExecutionOutcome } from '../src/executors/executor.js';
import { ExecutorHarness } from './helpers/executor-context.js';

const harness = new ExecutorHarness();
afterAll(() => harness.cleanup());

const EXAMPLES = [
  ['what a wonderful, delightful film, I loved it', 'positive'],
  ['brilliant acting and a beautiful story', 'positive'],
  ['a joyful, charming and funny movie', 'positive'],
  ['great soundtrack, superb cast, excellent direction', 'positive'],
  ['an amazing and moving masterpiece', 'positive'],
  ['I enjoyed every minute, truly fantastic', 'positive'],
  ['a dull, boring and tedious waste of time', 'negative'],
  ['terrible script and awful acting', 'negative'],
  ['the plot was stupid and the ending horrible', 'negative'],
  ['I hated it, the worst film this year', 'negative'],
  ['painfully slow, ugly and annoying', 'negative'],
  ['a disappointing mess with poor dialogue', 'negative'],
].map(([text, label]) => ({ text, label }));

function resultOf<T>(outcome: ExecutionOutcome): T {
  if (outcome.status !== 'completed') throw new Error(`expected completed, got ${JSON.stringify(outcome)}`);
  return outcome.result as unknown as T;
}

async function train(modelId: string, input: unknown) {
  const context = harness.context({ modelId, type: 'training', input: input as never });
  return { context, outcome: await new BuiltinExecutor().run(context) };
}

describe('builtin/sentiment', () => {
  const executor = new BuiltinExecutor();

  it('labels a clearly positive and a clearly negative sentence', async () => {
    const positive = await executor.run(harness.context({ modelId: 'builtin/sentiment', input: { text: 'I love this, it is wonderful and amazing!' } }));
    const negative = await executor.run(harness.context({ modelId: 'builtin/sentiment', input: 'This is terrible, awful and I hate it.' }));
    expect(positive).toMatchObject({ status: 'completed', result: { label: 'positive' } });
    expect(resultOf<{ score: number }>(positive).score).toBeGreaterThan(3);
    expect(negative).toMatchObject({ status: 'completed', result: { label: 'negative', negative: expect.arrayContaining(['hate']) } });
  });

  it('answers one result per text of { texts }', async () => {
    const outcome = await executor.run(harness.context({ modelId: 'builtin/sentiment', input: { texts: ['good', 'bad', 'table'] } }));
    expect(outcome).toMatchObject({ status: 'completed', result: { results: [{ label: 'positive' }, { label: 'negative' }, { label: 'neutral' }] } });
  });

  it('fails bad input with the reason, and cannot be trained', async () => {
    expect(await executor.run(harness.context({ modelId: 'builtin/sentiment', input: { words: 3 } }))).toEqual({
      status: 'failed',
      error: 'builtin/sentiment: input must be { "text": "..." } or a string',
    });
    expect(await executor.run(harness.context({ modelId: 'builtin/sentiment', input: { texts: ['ok', 7] } }))).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('texts must be an array of strings'),
    });
    expect((await train('builtin/sentiment', { text: 'x' })).outcome).toMatchObject({ status: 'failed', error: expect.stringContaining('cannot be trained') });
  });
});

describe('builtin/text-classifier', () => {
  it('trains, stores model.json, and a fresh executor classifies a new text from that artifact', async () => {
    const { context, outcome } = await train('builtin/text-classifier', { examples: EXAMPLES });
    expect(outcome).toEqual({
      status: 'completed',
      result: { model_id: `trained/${context.task.id}`, labels: ['positive', 'negative'], examples: 12 },
    });
    expect(context.statuses).toEqual(['running']);
    expect(await context.artifacts.get(context.task.id, 'model.json')).toBeInstanceOf(Buffer);

    const modelId = `trained/${context.task.id}`;
    const fresh = new BuiltinExecutor();
    const happy = await fresh.run(harness.context({ modelId, input: { text: 'a wonderful, charming story with brilliant acting' } }));
    const sad = await fresh.run(harness.context({ modelId, input: 'boring, awful and disappointing' }));
    expect(happy).toMatchObject({ status: 'completed', result: { label: 'positive' } });
    expect(sad).toMatchObject({ status: 'completed', result: { label: 'negative' } });
    const scores = resultOf<{ scores: Record<string, number> }>(happy).scores;
    expect(scores.positive).toBeGreaterThan(0.9);
    expect(scores.negative).toBeLessThan(0.1);
  });

  it('answers label null for a text with no word seen in training, and keeps words named like Object members apart', async () => {
    const examples = [...EXAMPLES, { text: 'the constructor scene was lovely', label: 'positive' }];
    const { context } = await train('builtin/text-classifier', { examples });
    const executor = new BuiltinExecutor();
    const unknown = await executor.run(harness.context({ modelId: `trained/${context.task.id}`, input: { text: 'zyx qwv' } }));
    expect(unknown).toEqual({ status: 'completed', result: { label: null, scores: { positive: 0.5, negative: 0.5 } } });
    const constructor = await executor.run(harness.context({ modelId: `trained/${context.task.id}`, input: { text: 'constructor' } }));
    expect(constructor).toMatchObject({ status: 'completed', result: { label: 'positive' } });
  });

  it('fails bad training input, an untrained use, and a missing model with reasons', async () => {
    expect((await train('builtin/text-classifier', { examples: [{ text: 'only one label here', label: 'a' }] })).outcome).toMatchObject({
      status: 'failed',
      error: 'builtin/text-classifier: examples need at least two different labels',
    });
    expect((await train('builtin/text-classifier', { examples: [{ text: 5, label: 'a' }] })).outcome).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('examples[0] must be'),
    });
    expect((await train('builtin/text-classifier', { examples: [{ text: 'cat', label: 'a' }, { text: 'dog', label: 'b' }] })).outcome).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('vocabulary is too small'),
    });
    const executor = new BuiltinExecutor();
    expect(await executor.run(harness.context({ modelId: 'builtin/text-classifier', input: { text: 'hi' } }))).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('train it first'),
    });
    expect(await executor.run(harness.context({ modelId: 'trained/no-such-task', input: { text: 'hi' } }))).toEqual({
      status: 'failed',
      error: 'trained/no-such-task: no trained model: task no-such-task has no model.json (is it a completed training task?)',
    });
  });
});

describe('builtin/linear-regression', () => {
  it('trained on y = 2x + 1, predicts 21 for 10', async () => {
    const { context, outcome } = await train('builtin/linear-regression', { x: [[0], [1], [2], [3]], y: [1, 3, 5, 7] });
    expect(outcome).toMatchObject({ status: 'completed', result: { model_id: `trained/${context.task.id}`, examples: 4, inputs: 1, outputs: 1 } });
    const predicted = await new BuiltinExecutor().run(harness.context({ modelId: `trained/${context.task.id}`, input: { x: [[10], [-1]] } }));
    const [at10, atMinus1] = resultOf<{ y: number[] }>(predicted).y;
    expect(Math.abs(at10! - 21)).toBeLessThan(1e-6);
    expect(Math.abs(atMinus1! + 1)).toBeLessThan(1e-6);
  });

  it('keeps several outputs as rows', async () => {
    const { context } = await train('builtin/linear-regression', { x: [[0, 0], [1, 0], [0, 1], [1, 1]], y: [[1, 0], [2, 1], [4, 3], [5, 4]] });
    const predicted = await new BuiltinExecutor().run(harness.context({ modelId: `trained/${context.task.id}`, input: { x: [[2, 2]] } }));
    const [[first, second]] = resultOf<{ y: [[number, number]] }>(predicted).y;
    expect(first).toBeCloseTo(1 + 2 + 3 * 2, 6);
    expect(second).toBeCloseTo(2 + 3 * 2, 6);
  });

  it('fails bad input with reasons', async () => {
    expect((await train('builtin/linear-regression', { x: [[1], [2, 3]], y: [1, 2] })).outcome).toMatchObject({
      status: 'failed',
      error: 'builtin/linear-regression: x[1] must be an array of 1 numbers',
    });
    expect((await train('builtin/linear-regression', { x: [[1], [2]], y: [1] })).outcome).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('y must be an array of 2 values'),
    });
    const { context } = await train('builtin/linear-regression', { x: [[0], [1]], y: [1, 3] });
    expect(await new BuiltinExecutor().run(harness.context({ modelId: `trained/${context.task.id}`, input: { x: [[1, 2]] } }))).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('each row of x must have 1 numbers'),
    });
  });
});

describe('builtin/echo and the registry', () => {
  it('echo answers its input unchanged, reporting no status on the way', async () => {
    const context = harness.context({ modelId: 'builtin/echo', input: { i: 7, nested: [1, 'two'] } });
    expect(await new BuiltinExecutor().run(context)).toEqual({ status: 'completed', result: { i: 7, nested: [1, 'two'] } });
    expect(context.statuses).toEqual([]);
  });

  it('an unknown model fails naming the builtin ones', async () => {
    expect(await new BuiltinExecutor().run(harness.context({ modelId: 'builtin/gpt-9', input: 'x' }))).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('builtin/sentiment, builtin/text-classifier'),
    });
  });

  it('lists the versions of the packages installed', () => {
    const require = createRequire(import.meta.url);
    for (const model of BUILTIN_MODELS.filter((info) => info.library !== 'taskhub')) {
      expect(require(`${model.library}/package.json`).version, model.id).toBe(model.version);
    }
  });
});
