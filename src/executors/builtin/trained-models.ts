import type { JsonValue } from '../../domain/json.js';
import type { ArtifactAccess } from '../executor.js';
import { isJsonObject } from '../json-checks.js';
import type { Predictor, TrainableModel } from './builtin-model.js';
import { ModelInputError } from './model-input.js';

/** The artifact a training task leaves: the model that trained it (its kind) and its state. */
export const MODEL_FILE = 'model.json';
const MODEL_FILE_FORMAT = 1;

interface ModelFile {
  kind: string;
  format: number;
  state: JsonValue;
}

export async function saveTrainedModel(artifacts: ArtifactAccess, kind: string, state: JsonValue): Promise<void> {
  const file: ModelFile = { kind, format: MODEL_FILE_FORMAT, state };
  await artifacts.put(MODEL_FILE, Buffer.from(JSON.stringify(file)), 'application/json');
}

/**
 * Trained models, read from their training task's model.json once and kept as predictors.
 * A model never changes once trained, so an entry needs no invalidation; the 32 most recently
 * used are kept (a text classifier of a few thousand examples holds a few MB of word counts).
 */
export class TrainedModels {
  private readonly loaded = new Map<string, Promise<Predictor>>();

  constructor(
    private readonly kinds: ReadonlyMap<string, TrainableModel>,
    private readonly maxEntries = 32,
  ) {}

  get(taskId: string, artifacts: ArtifactAccess): Promise<Predictor> {
    const cached = this.loaded.get(taskId);
    const predictor = cached ?? this.load(taskId, artifacts);
    if (!cached) {
      // A failed read (a model not trained yet, the server unreachable) is tried again next time.
      predictor.catch(() => {
        if (this.loaded.get(taskId) === predictor) this.loaded.delete(taskId);
      });
    }
    // A Map iterates in insertion order: inserting again marks the entry most recently used.
    this.loaded.delete(taskId);
    this.loaded.set(taskId, predictor);
    if (this.loaded.size > this.maxEntries) this.loaded.delete(this.loaded.keys().next().value!);
    return predictor;
  }

  private async load(taskId: string, artifacts: ArtifactAccess): Promise<Predictor> {
    const data = await artifacts.get(taskId, MODEL_FILE);
    if (!data) throw new ModelInputError(`no trained model: task ${taskId} has no ${MODEL_FILE} (is it a completed training task?)`);
    let file: ModelFile;
    try {
      file = JSON.parse(data.toString('utf8')) as ModelFile;
    } catch {
      throw new ModelInputError(`${MODEL_FILE} of task ${taskId} is not JSON`);
    }
    const model = isJsonObject(file as unknown as JsonValue) && file.format === MODEL_FILE_FORMAT ? this.kinds.get(file.kind) : undefined;
    if (!model) throw new ModelInputError(`${MODEL_FILE} of task ${taskId} is not a model taskhub can load`);
    return model.load(file.state);
  }
}
