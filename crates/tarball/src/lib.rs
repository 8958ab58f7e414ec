//! Velero backup tarballs (format 1.1.0): a streaming writer and a bounded, hostile-input-safe reader.
