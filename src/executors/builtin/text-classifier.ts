import type naiveBayes from 'wink-naive-bayes-text-classifier';
import type { JsonObject, JsonValue } from '../../domain/json.js';
import { isJsonObject } from '../json-checks.js';
import type { Predictor, TrainableModel, Training } from './builtin-model.js';
import { ModelInputError, textOf } from './model-input.js';

interface ClassifierState {
  labels: string[];
  /** wink's own export (exportJSON), parsed. */
  learnings: JsonValue;
}

/**
 * wink-nlp and its English model load in about 170 ms and take about 50 MB: only when a
 * text classifier is first trained or loaded, not when the agent starts.
 */
async function newClassifier(): Promise<naiveBayes.NaiveBayesTextClassifier> {
  const [{ default: newNaiveBayes }, { default: prepText }] = await Promise.all([
    import('wink-naive-bayes-text-classifier'),
    import('wink-naive-bayes-text-classifier/src/prep-text.js'),
  ]);
  const classifier = newNaiveBayes();
  // After importJSON, wink keeps word counts in plain objects, so a word named like an
  // Object.prototype member ("constructor", learned under one label only) reads as a function
  // and turns every score to NaN. A prefix no such member starts with keeps words apart.
  classifier.definePrepTasks([prepText, (words: string[]) => words.map((word) => `#${word}`)]);
  return classifier;
}

/** wink reports unusable examples by throwing "winkNBTC: ..."; the task's input is at fault. */
function asInputError(error: unknown): unknown {
  return error instanceof Error && error.message.startsWith('winkNBTC: ')
    ? new ModelInputError(error.message.slice('winkNBTC: '.length))
    : error;
}

function examplesOf(input: JsonValue): Array<{ text: string; label: string }> {
  const examples = isJsonObject(input) ? input.examples : undefined;
  if (!Array.isArray(examples) || examples.length === 0) {
    throw new ModelInputError('training input must be { "examples": [{ "text": "...", "label": "..." }, ...] }');
  }
  return examples.map((example, index) => {
    if (!isJsonObject(example) || typeof example.text !== 'string' || typeof example.label !== 'string' || example.label === '') {
      throw new ModelInputError(`examples[${index}] must be { "text": string, "label": non-empty string }`);
    }
    return { text: example.text, label: example.label };
  });
}

/** Maps wink's log2 odds of "this label rather than the others" to a probability. */
const probability = (log2Odds: number) => 1 / (1 + 2 ** -log2Odds);

/** Naive Bayes over stemmed words (wink-naive-bayes-text-classifier). */
export const textClassifier: TrainableModel = {
  async train(input: JsonValue): Promise<Training> {
    const examples = examplesOf(input);
    const labels = [...new Set(examples.map((example) => example.label))];
    if (labels.length < 2) throw new ModelInputError('examples need at least two different labels');
    const classifier = await newClassifier();
    try {
      for (const { text, label } of examples) classifier.learn(text, label);
      classifier.consolidate();
    } catch (error) {
      throw asInputError(error);
    }
    const state: ClassifierState = { labels, learnings: JSON.parse(classifier.exportJSON()) as JsonValue };
    return { state: state as unknown as JsonObject, summary: { labels, examples: examples.length } };
  },

  async load(stored: JsonValue): Promise<Predictor> {
    const state = stored as unknown as ClassifierState;
    if (!isJsonObject(stored) || !Array.isArray(state.labels) || !Array.isArray(state.learnings)) {
      throw new ModelInputError('model.json does not hold a text classifier');
    }
    const classifier = await newClassifier();
    try {
      classifier.importJSON(JSON.stringify(state.learnings));
      classifier.consolidate();
    } catch (error) {
      throw asInputError(error);
    }
    return (input) => {
      const ranked = classifier.computeOdds(textOf(input));
      // A consolidated classifier knows two labels at least, so a single entry is wink's
      // ['unknown', 0]: no word of the text was seen in training, or the evidence is even.
      // It must not be mistaken for a label someone named "unknown".
      const decided = ranked.length > 1;
      const odds = new Map(ranked);
      const scores = Object.fromEntries(state.labels.map((label) => [label, probability(decided ? (odds.get(label) ?? 0) : 0)]));
      return { label: decided ? ranked[0]![0] : null, scores };
    };
  },
};
