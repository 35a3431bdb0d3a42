//! placeholder
#[allow(dead_code)]
mod cluster_common;
fn main() { cluster_common::main_with(&[]); }
