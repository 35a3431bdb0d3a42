//! `#[hedge]` on an async lookup with a slow tail: when the first run has not answered
//! within the delay, a second run starts beside it and the first answer wins; the slow
//! run is dropped, and what it held is released.
//!
//! Run it with `cargo run --example hedge`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use resilience::errors::{NetworkTimeout, Validation};
use resilience::{hedge, registry, retry, Error, HedgeConfig};
use tokio::time::Instant;

/// A replica read whose runs 1, 4 and 8 are stuck for a second (a slow replica, a lost
/// packet): the tail a hedge cuts off. Run 5 fails with a transient error.
struct Replicas {
    runs: AtomicU32,
}

/// Held by a run while it is in flight, as a pooled connection would be.
struct Connection(u32);

impl Drop for Connection {
    fn drop(&mut self) {
        println!("    run {} gives its connection back", self.0);
    }
}

impl Replicas {
    #[hedge(delay = 20ms, max_hedges = 2)]
    async fn read(&self, key: &str) -> Result<String, Error> {
        let run = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
        let _connection = Connection(run);
        if key.is_empty() {
            return Err(Validation::new("an empty key").into());
        }
        let latency = if [1, 4, 8].contains(&run) { 1_000 } else { 3 };
        tokio::time::sleep(Duration::from_millis(latency)).await;
        if run == 5 {
            return Err(NetworkTimeout::new("replica reset the connection").into());
        }
        Ok(format!("{key} (from run {run})"))
    }
}

/// A retry written before the hedge retries the whole hedged call.
#[retry(max_attempts = 2, backoff = fixed(10ms))]
async fn read_retried(replicas: &Replicas, key: &str) -> Result<String, Error> {
    replicas.read(key).await
}

#[tokio::main(flavor = "current_thread", start_paused = true)]
async fn main() {
    let replicas = Replicas {
        runs: AtomicU32::new(0),
    };

    println!("a slow first run, hedged after 20 ms:");
    let started = Instant::now();
    let value = replicas.read("board-7").await.expect("the hedge answers");
    println!("  {value} after {:?}", started.elapsed());

    println!("a fast first run, no hedge:");
    let started = Instant::now();
    let value = replicas
        .read("board-8")
        .await
        .expect("the first run answers");
    println!("  {value} after {:?}", started.elapsed());

    println!("a retryable failure starts the next run at once:");
    let started = Instant::now();
    let value = replicas.read("board-9").await.expect("a later run answers");
    println!("  {value} after {:?}", started.elapsed());

    println!("an error that is not retryable ends the call:");
    let error = read_retried(&replicas, "").await.unwrap_err();
    println!("  {error}");

    let hedge = registry()
        .hedges()
        .into_iter()
        .find(|h| h.name.ends_with("read"))
        .expect("the call site registered its hedge");
    println!(
        "hedge {}: {} hedged calls, {} extra runs, {} won by a hedge",
        hedge.name, hedge.hedged_calls, hedge.hedges_started, hedge.hedge_wins
    );

    // Run-time configuration wins over the attribute's keys.
    registry()
        .configure_hedge(
            &hedge.name,
            HedgeConfig {
                delay: Duration::from_millis(5),
                max_hedges: 1,
            },
        )
        .expect("a valid configuration");
    let started = Instant::now();
    let value = replicas.read("board-10").await.expect("the hedge answers");
    println!("with a 5 ms delay: {value} after {:?}", started.elapsed());
}
