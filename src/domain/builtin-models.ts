/**
 * The models the builtin executor runs in the agent's own process (npm packages installed
 * with taskhub, nothing downloaded at run time). Pure data: the server lists it, the
 * builtin executor implements it.
 */
export interface BuiltinModelInfo {
  /** What a task names in `modelId`. */
  id: string;
  name: string;
  description: string;
  /** `trainable`: a task of a training type makes a model named `trained/<that task's id>`. */
  kind: 'pretrained' | 'trainable' | 'utility';
  /** The input of an inference task (of a training task, for a trainable model: `training.input`). */
  input: string;
  output: string;
  training?: { input: string; output: string };
  /** The npm package that does the work and its version (`utility`: taskhub itself). */
  library: string;
  version: string;
}

/** A model trained by taskhub is named after its training task: `trained/<task id>`. */
export const TRAINED_MODEL_PREFIX = 'trained/';

/** Task types that mean "train": the native and ClearML word, and Mimir AIP's. */
const TRAINING_TASK_TYPES = ['training', 'ml_training'];

export function isTrainingTask(type: string): boolean {
  return TRAINING_TASK_TYPES.includes(type);
}

const TRAINED_MODEL_ANSWER = '{ model_id: "trained/<training task id>", ... }; the model is kept as the artifact model.json of the training task';

export const BUILTIN_MODELS: readonly BuiltinModelInfo[] = [
  {
    id: 'builtin/sentiment',
    name: 'Sentiment (AFINN-165)',
    description: 'English sentiment analysis with the AFINN-165 word list and emoji ranking: sums word scores, handles negation.',
    kind: 'pretrained',
    input: '{ text: string } or a plain string, or { texts: string[] }',
    output:
      '{ label: "positive"|"negative"|"neutral", score, comparative, positive: string[], negative: string[], tokens }; for texts: { results: [...] }',
    library: 'sentiment',
    version: '5.0.2',
  },
  {
    id: 'builtin/text-classifier',
    name: 'Naive Bayes text classifier',
    description: 'Multinomial naive Bayes over stemmed English words without stop words; trained on labelled examples (two labels at least).',
    kind: 'trainable',
    input: '{ text: string } or a plain string, with modelId "trained/<training task id>"',
    output: '{ label: string | null, scores: { <label>: probability the text has that label rather than another } }; label is null when no word of the text was seen in training',
    training: { input: '{ examples: [{ text: string, label: string }, ...] }', output: `${TRAINED_MODEL_ANSWER}, labels, examples` },
    library: 'wink-naive-bayes-text-classifier',
    version: '2.2.1',
  },
  {
    id: 'builtin/linear-regression',
    name: 'Multivariate linear regression',
    description: 'Least-squares linear regression with an intercept, one or several outputs.',
    kind: 'trainable',
    input: '{ x: number[][] } (one row per sample), with modelId "trained/<training task id>"',
    output: '{ y: number[] } when trained on y: number[], else { y: number[][] }',
    training: { input: '{ x: number[][], y: number[] | number[][] }', output: `${TRAINED_MODEL_ANSWER}, examples, inputs, outputs, weights` },
    library: 'ml-regression-multivariate-linear',
    version: '2.0.4',
  },
  {
    id: 'builtin/echo',
    name: 'Echo',
    description: 'Answers its input unchanged at once: the no-op task of the benchmarks.',
    kind: 'utility',
    input: 'any JSON',
    output: 'the input',
    library: 'taskhub',
    version: '1',
  },
];

export function findBuiltinModel(id: string): BuiltinModelInfo | undefined {
  return BUILTIN_MODELS.find((model) => model.id === id);
}
