//! The order in which a restore creates group-resources, and parsing of custom restore priorities.
