//! Media I/O.
