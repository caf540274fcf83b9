// The package ships no types: the part of its API that taskhub calls.
declare module 'wink-naive-bayes-text-classifier' {
  namespace naiveBayesTextClassifier {
    interface NaiveBayesTextClassifier {
      definePrepTasks(tasks: Array<(input: never) => unknown>): number;
      learn(input: string, label: string): boolean;
      /** Throws if fewer than 2 labels or 10 distinct words were learned. */
      consolidate(): boolean;
      /** `[label, log2 odds]`, best first; `[['unknown', 0]]` when the text gives no evidence. */
      computeOdds(input: string): Array<[string, number]>;
      exportJSON(): string;
      importJSON(json: string): boolean;
    }
  }
  function naiveBayesTextClassifier(): naiveBayesTextClassifier.NaiveBayesTextClassifier;
  export = naiveBayesTextClassifier;
}

declare module 'wink-naive-bayes-text-classifier/src/prep-text.js' {
  /** Words of an English text, stemmed, without stop words; a negated word gets a leading "!". */
  function prepText(text: string): string[];
  export = prepText;
}
