// `#[feature_switch]`: a disabled feature answers its fallback without running.
#[feature_switch("recommendations")]
fn recommend(user: u64) -> Result<Vec<u64>, RecoError> {
    model(user)
}
