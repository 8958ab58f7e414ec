//! Velero's built-in restore actions as pure transforms of one object.
