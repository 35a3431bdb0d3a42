use resilience::MarcusError;

#[derive(Debug, thiserror::Error, MarcusError)]
#[error("disk full")]
#[marcus(category = system, code = "disk-full")]
struct DiskFull;

fn main() {}
