export type { Cancellation, HasExtensions } from "./cancellation.js";
export {
  abortReason,
  appendSignal,
  childCancellation,
  neverAborts,
  raceAbort,
  SignalKey,
  signalOf,
  throwIfAborted,
  withDeadline,
  withTimeout,
} from "./cancellation.js";
export type { TesseraErrorOptions } from "./errors.js";
export {
  AbortedError,
  errorCode,
  isTesseraError,
  MissingExtensionError,
  ShutdownError,
  TesseraError,
  TimeoutError,
} from "./errors.js";
export type { Extensible, Key } from "./extensions.js";
export { Extensions, forkInput, key } from "./extensions.js";
export type {
  Applied,
  Fold,
  GenericLayer,
  KindCheck,
  KindResult,
  Layer,
  LayerKind,
  LayerResult,
  Same,
  StackError,
} from "./layer.js";
export { genericLayer, identity, layer, sameLayer } from "./layer.js";
export type { InputOf, OutputOf, Service } from "./service.js";
export { service } from "./service.js";
export type { CloseOptions, Shutdown, ShutdownResult } from "./shutdown.js";
export { createShutdown, trackInFlight } from "./shutdown.js";
export type { Stack, StackKind } from "./stack.js";
export { stack } from "./stack.js";
