// An `async fn` in a trait impl, through paths written as `resilience::…`.
impl Store for RemoteStore {
    #[resilience::retry(max_attempts = 3, backoff = none)]
    #[resilience::timeout(1s)]
    async fn load(&self, id: u64) -> Result<Record, StoreError> {
        self.fetch(id).await
    }
}
