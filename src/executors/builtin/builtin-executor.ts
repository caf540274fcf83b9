import { BUILTIN_MODELS, isTrainingTask, TRAINED_MODEL_PREFIX } from '../../domain/builtin-models.js';
import type { JsonValue } from '../../domain/json.js';
import type { ExecutionContext, ExecutionOutcome, Executor } from '../executor.js';
import { isTrainable, type ModelImplementation, type TrainableModel } from './builtin-model.js';
import { echoModel } from './echo-model.js';
import { linearRegression } from './linear-regression.js';
import { ModelInputError } from './model-input.js';
import { sentimentModel } from './sentiment-model.js';
import { textClassifier } from './text-classifier.js';
import { saveTrainedModel, TrainedModels } from './trained-models.js';

/** The implementation of each model of domain/builtin-models.ts, by id. */
const IMPLEMENTATIONS = new Map<string, ModelImplementation>([
  ['builtin/sentiment', sentimentModel],
  ['builtin/text-classifier', textClassifier],
  ['builtin/linear-regression', linearRegression],
  ['builtin/echo', echoModel],
]);

const TRAINABLE = new Map(
  [...IMPLEMENTATIONS].filter((entry): entry is [string, TrainableModel] => isTrainable(entry[1])),
);

/**
 * Runs the builtin models in the agent's process. Bad input, an unknown or untrained model:
 * a failed outcome that says why. Keep one instance per agent: it caches trained models.
 *
 * It never reads `context.signal`: the agent starts no task that is already stopped, and a model
 * cannot be stopped midway (inference takes microseconds, training runs to its end). Unread,
 * the signal is never made, which spares the agent about 6 µs a task.
 */
export class BuiltinExecutor implements Executor {
  readonly name = 'builtin';
  private readonly trained = new TrainedModels(TRAINABLE);

  async run(context: ExecutionContext): Promise<ExecutionOutcome> {
    const modelId = context.task.modelId ?? '';
    try {
      return { status: 'completed', result: await this.answer(modelId, context) };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { status: 'failed', error: `${modelId || 'builtin'}: ${message}` };
    }
  }

  private async answer(modelId: string, context: ExecutionContext): Promise<JsonValue> {
    const { task } = context;
    const training = isTrainingTask(task.type);
    if (modelId.startsWith(TRAINED_MODEL_PREFIX)) {
      if (training) throw new ModelInputError(`a trained model is not trained again: train its builtin model in a new task`);
      context.running();
      const predict = await this.trained.get(modelId.slice(TRAINED_MODEL_PREFIX.length), context.artifacts);
      return predict(task.input);
    }
    const model = IMPLEMENTATIONS.get(modelId);
    if (!model) throw new ModelInputError(`unknown model; builtin models: ${BUILTIN_MODELS.map((info) => info.id).join(', ')}`);
    if (!isTrainable(model)) {
      if (training) throw new ModelInputError('this model cannot be trained');
      // Answered in well under a millisecond (echo, one sentence of sentiment): straight from
      // assigned to completed, one status report per task instead of two.
      return model.infer(task.input);
    }
    if (!training) {
      throw new ModelInputError(`train it first: submit a task of type "training" with this model, then name "${TRAINED_MODEL_PREFIX}<that task's id>"`);
    }
    context.running();
    const { state, summary } = await model.train(task.input);
    await saveTrainedModel(context.artifacts, modelId, state);
    return { model_id: `${TRAINED_MODEL_PREFIX}${task.id}`, ...summary };
  }
}
