/**
 * Formats: typed rows → file bytes (csv, kv, jsonl). The export pipeline calls resolveColumns
 * once the query's columns are known, then encodeFile (or, for PostgreSQL when fastPathCheck
 * allows it, COPY wrapped in fileHeaderBytes/fileTrailerBytes and crlfTransform).
 */
export { resolveColumns } from './columns.js';
export { encodeFile, fileHeaderBytes, fileTrailerBytes } from './encode.js';
export { fastPathCheck } from './fastpath.js';
export { crlfTransform } from './crlf.js';
export { canonicalText } from './canonical.js';
export type { EncodeOptions, EncodeStats, ResolvedColumn, SourceColumn, Value } from './types.js';
export { resolveImportColumns } from './read-columns.js';
export { decodeFile } from './read.js';
export { checkTrailer } from './read-trailer.js';
export type { DecodedRow, DecodeOptions, DecodeSummary, ImportColumn } from './types.js';
