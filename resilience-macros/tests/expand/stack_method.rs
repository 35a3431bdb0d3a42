// A `&self` method and a `&mut self` method in an inherent impl.
impl Client {
    #[retry(max_attempts = 2, backoff = none)]
    #[circuit_breaker(name = "client")]
    fn get(&self, key: &str) -> Result<String, ClientError> {
        self.inner.get(key)
    }

    #[error_context("put")]
    async fn put(&mut self, key: &str, value: String) -> Result<(), ClientError> {
        self.inner.put(key, value).await
    }
}
