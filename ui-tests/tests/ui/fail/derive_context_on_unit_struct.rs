use resilience::MarcusError;

#[derive(Debug, thiserror::Error, MarcusError)]
#[error("disk full")]
#[marcus(category = system)]
#[context]
struct DiskFull;

fn main() {}
