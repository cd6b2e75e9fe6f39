-- 0004: stored documents may be in a second format.
--
-- Never edit this file once released: add 0005_….sql instead.
--
-- Nothing in the schema changes: `profiles.xml` may now hold a document compressed with
-- zstd and dictionary 1 (see src/store/document.rs) as well as the earlier LZ4 format.
-- The version step is the point: a build from before this migration cannot read the new
-- format, and refuses a database at this version as too new, untouched, instead of
-- reporting every profile written since as corrupt. The format is also noted in meta.
INSERT OR REPLACE INTO meta (key, value) VALUES ('store.document_format', 'zstd-dictionary-1');
