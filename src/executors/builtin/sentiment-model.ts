import Sentiment from 'sentiment';
import type { JsonObject, JsonValue } from '../../domain/json.js';
import { isJsonObject } from '../json-checks.js';
import type { InferenceModel } from './builtin-model.js';
import { ModelInputError, textOf } from './model-input.js';

const analyzer = new Sentiment();

function analyze(text: string): JsonObject {
  const { score, comparative, positive, negative, tokens } = analyzer.analyze(text);
  return {
    label: score > 0 ? 'positive' : score < 0 ? 'negative' : 'neutral',
    score,
    comparative,
    positive,
    negative,
    tokens: tokens.length,
  };
}

/** AFINN-165 lexicon sentiment of one text (`{ text }` or a string) or of several (`{ texts }`). */
export const sentimentModel: InferenceModel = {
  infer(input: JsonValue): JsonValue {
    if (isJsonObject(input) && input.texts !== undefined) {
      const texts = input.texts;
      if (!Array.isArray(texts) || !texts.every((text) => typeof text === 'string')) {
        throw new ModelInputError('texts must be an array of strings');
      }
      return { results: texts.map((text) => analyze(text as string)) };
    }
    return analyze(textOf(input));
  },
};
