/**
 * Stream states of RFC 9113 5.1 as a server sees them (no push, so no reserved states). Plain numbers: a stream
 * holds one in a field and the connection compares them on every frame.
 */
export const StreamState = Object.freeze({
  /** Open both ways. */
  OPEN: 1,
  /** We sent END_STREAM; the client may still send. */
  HALF_CLOSED_LOCAL: 2,
  /** The client sent END_STREAM; we may still send. */
  HALF_CLOSED_REMOTE: 3,
  /** Done both ways, or reset. */
  CLOSED: 4,
} as const);
export type StreamState = (typeof StreamState)[keyof typeof StreamState];

/** The state after the client's END_STREAM. */
export function afterRemoteEnd(state: StreamState): StreamState {
  return state === StreamState.OPEN ? StreamState.HALF_CLOSED_REMOTE : StreamState.CLOSED;
}

/** The state after our END_STREAM. */
export function afterLocalEnd(state: StreamState): StreamState {
  return state === StreamState.OPEN ? StreamState.HALF_CLOSED_LOCAL : StreamState.CLOSED;
}

/** Whether the client may still send DATA or trailers on a stream in `state`. */
export function remoteOpen(state: StreamState): boolean {
  return state === StreamState.OPEN || state === StreamState.HALF_CLOSED_LOCAL;
}

/** Whether we may still send on a stream in `state`. */
export function localOpen(state: StreamState): boolean {
  return state === StreamState.OPEN || state === StreamState.HALF_CLOSED_REMOTE;
}
