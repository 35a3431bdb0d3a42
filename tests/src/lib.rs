//! Integration tests live in `tests/`; this crate's library holds only what tests and
//! examples share: [`redis_server`], a throwaway Redis on a free loopback port.

pub mod redis_server;
