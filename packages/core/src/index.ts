export type { Service, InputOf, OutputOf } from "./service.js";
export { service } from "./service.js";
export type {
  Layer,
  LayerKind,
  Applied,
  Same,
  StackError,
  KindResult,
  KindCheck,
  GenericLayer,
  LayerResult,
  Fold,
} from "./layer.js";
export { layer, sameLayer, genericLayer, identity } from "./layer.js";
export type { Stack, StackKind } from "./stack.js";
export { stack } from "./stack.js";
export type { Key, Extensible } from "./extensions.js";
export { key, Extensions, forkInput } from "./extensions.js";
export type { Cancellation, HasExtensions } from "./cancellation.js";
export {
  SignalKey,
  signalOf,
  neverAborts,
  childCancellation,
  withTimeout,
  withDeadline,
  abortReason,
  throwIfAborted,
  raceAbort,
  appendSignal,
} from "./cancellation.js";
export type { TesseraErrorOptions } from "./errors.js";
export {
  TesseraError,
  isTesseraError,
  errorCode,
  MissingExtensionError,
  AbortedError,
  TimeoutError,
  ShutdownError,
} from "./errors.js";
export type { Shutdown, ShutdownResult, CloseOptions } from "./shutdown.js";
export { createShutdown, trackInFlight } from "./shutdown.js";
