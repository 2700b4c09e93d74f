/**
 * Dense autoencoder detector (issue #6 item 1c): the public surface of this folder. Importing it
 * does not load TensorFlow.js; trainAutoencoder() loads it on its first call (backend.ts), so the
 * daemon can load and score saved models without initialising a backend.
 */
export { Autoencoder, type AutoencoderExplanation } from "./autoencoder.js";
export {
  AUTOENCODER_FORMAT,
  AUTOENCODER_FORMAT_VERSION,
  AutoencoderFormatError,
  type AutoencoderJson,
} from "./autoencoderJson.js";
export type { AutoencoderTraining, AutoencoderValidation } from "./autoencoderModel.js";
export {
  BACKEND_CHOICES,
  type BackendChoice,
  type BackendInUse,
  type BackendSelection,
  loadTensorflow,
  type TensorflowRuntime,
} from "./backend.js";
export {
  AUTOENCODER_DEFAULTS,
  type AutoencoderOptions,
  type EpochProgress,
  MIN_TRAINING_ROWS,
  type TrainingHooks,
  trainAutoencoder,
} from "./train.js";
