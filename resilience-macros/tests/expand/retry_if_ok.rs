// `retry_if_ok` on an `async fn`: an `Ok` the predicate names goes round the loop again.
#[retry(max_attempts = 5, backoff = fixed(1s), retry_if_ok = still_pending)]
async fn job_status(id: u64) -> Result<Status, JobError> {
    poll(id).await
}
