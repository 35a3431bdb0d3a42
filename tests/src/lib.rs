//! Integration tests live in `tests/`; this crate's library holds only what tests and
//! examples share: [`redis_server`], a throwaway Redis on a free loopback port (and
//! Redis Clusters and sentinels), [`proxy`], a TCP proxy that makes partitions,
//! [`temp_file`], a configuration file of a test's own, and [`capture`], the `tracing`
//! events a test's code sends.

pub mod capture;
pub mod proxy;
pub mod redis_server;
pub mod temp_file;
