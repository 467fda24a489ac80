// The reason phrases are @tessera/http's (one table for every HTTP version); http1 builds its precomputed
// status lines from them.
export { STATUS_REASONS } from "@tessera/http";
