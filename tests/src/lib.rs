//! Integration tests live in `tests/`; this crate's library holds only what tests and
//! examples share: [`redis_server`], a throwaway Redis on a free loopback port (and
//! Redis Clusters and sentinels), and [`proxy`], a TCP proxy that makes partitions.

pub mod proxy;
pub mod redis_server;
