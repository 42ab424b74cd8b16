// The primitive operations a SharedState backend provides: the SQL backends get them from the Store
// (StatePrimitives); memory and Redis implement the same interface here. Keys arrive prefixed.
export type { StatePrimitives as StateOps } from '../store/types.js'
