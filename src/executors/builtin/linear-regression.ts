import MultivariateLinearRegression from 'ml-regression-multivariate-linear';
import type { JsonObject, JsonValue } from '../../domain/json.js';
import { isJsonObject } from '../json-checks.js';
import type { Predictor, TrainableModel, Training } from './builtin-model.js';
import { isFiniteNumber, ModelInputError, numberMatrix } from './model-input.js';

interface RegressionState {
  /** ml.js's own export (toJSON): weights, inputs, outputs, intercept. */
  regression: JsonObject;
  /** Trained on `y: number[]`: predictions are answered as numbers, not one-element rows. */
  scalarOutput: boolean;
}

function targetsOf(y: JsonValue | undefined, rows: number): { matrix: number[][]; scalar: boolean } {
  if (!Array.isArray(y) || y.length !== rows) throw new ModelInputError(`y must be an array of ${rows} values, one per row of x`);
  if (y.every(isFiniteNumber)) return { matrix: y.map((value) => [value]), scalar: true };
  return { matrix: numberMatrix(y, 'y'), scalar: false };
}

/** Least squares with an intercept (ml-regression-multivariate-linear, from the ml.js family). */
export const linearRegression: TrainableModel = {
  async train(input: JsonValue): Promise<Training> {
    if (!isJsonObject(input)) throw new ModelInputError('training input must be { "x": number[][], "y": number[] | number[][] }');
    const x = numberMatrix(input.x, 'x');
    const { matrix: y, scalar } = targetsOf(input.y, x.length);
    // `statistics` divides by (samples - inputs - 1), which is 0 for an exact fit on two
    // points and would write NaN into model.json: the weights are all taskhub needs.
    const regression = new MultivariateLinearRegression(x, y, { intercept: true, statistics: false });
    const weights = regression.weights;
    if (!weights.every((row) => row.every(Number.isFinite))) throw new ModelInputError('x and y give no finite least-squares solution');
    const state: RegressionState = { regression: regression.toJSON() as unknown as JsonObject, scalarOutput: scalar };
    return {
      state: state as unknown as JsonObject,
      summary: { examples: x.length, inputs: x[0]!.length, outputs: y[0]!.length, weights },
    };
  },

  async load(stored: JsonValue): Promise<Predictor> {
    const state = stored as unknown as RegressionState;
    if (!isJsonObject(stored) || !isJsonObject(state.regression) || typeof state.regression.inputs !== 'number') {
      throw new ModelInputError('model.json does not hold a linear regression');
    }
    const regression = MultivariateLinearRegression.load(state.regression as unknown as MultivariateLinearRegression.MLRModel);
    const inputs = state.regression.inputs;
    return (input) => {
      const x = numberMatrix(isJsonObject(input) ? input.x : undefined, 'x');
      if (x[0]!.length !== inputs) throw new ModelInputError(`each row of x must have ${inputs} numbers, as in training`);
      const y = regression.predict(x);
      return { y: state.scalarOutput ? y.map((row) => row[0]!) : y };
    };
  },
};
