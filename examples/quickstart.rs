//! The main job in one file: a flaky service in-process, called through `#[retry]`,
//! `#[circuit_breaker]` and `#[fallback]`; the breaker opens, rejects, and recovers; then
//! the registry is printed as a table and as JSON.
//!
//! Run it with `cargo run --example quickstart`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use resilience::{
    circuit_breaker, error_context, fallback, registry, retry, CircuitOpen, ErrorContext,
    MarcusError,
};

/// The errors of our (pretend) board service.
#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = integration)]
enum BoardError {
    #[error("board service timed out")]
    #[marcus(category = transient, remediation(fallback = "Serve the last board we saw"))]
    Timeout {
        #[context]
        ctx: Box<ErrorContext>,
    },
    #[error(transparent)]
    CircuitOpen(#[from] CircuitOpen),
}

/// A service that is down for a while, then comes back.
struct FlakyService {
    calls: AtomicU32,
    down_between: (u32, u32),
}

impl FlakyService {
    fn fetch(&self, id: u64) -> Result<String, BoardError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        if (self.down_between.0..self.down_between.1).contains(&n) {
            Err(BoardError::Timeout {
                ctx: Box::new(ErrorContext::new()),
            })
        } else {
            Ok(format!("board {id} (live, call #{n})"))
        }
    }
}

static SERVICE: FlakyService = FlakyService {
    calls: AtomicU32::new(0),
    down_between: (2, 5),
};

fn cached_board(id: u64) -> Result<String, BoardError> {
    Ok(format!("board {id} (cached)"))
}

#[fallback(cached_board)]
#[retry(max_attempts = 2, backoff = fixed(20ms), jitter = none)]
#[circuit_breaker(name = "kanban", failure_threshold = 3, recovery_timeout = 300ms, success_threshold = 1)]
#[error_context("fetch_board", integration_name = "kanban")]
fn fetch_board(id: u64) -> Result<String, BoardError> {
    SERVICE.fetch(id)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("Calling a service that fails for a while, through retry, breaker and fallback:\n");
    for round in 1..=12 {
        let answer = fetch_board(round)?;
        let state = registry().breaker("kanban").map(|b| b.state());
        println!("call {round:>2}: {answer:<28} breaker: {state:?}");
        if round == 6 {
            println!("         ... waiting for the breaker's recovery timeout ...");
            std::thread::sleep(Duration::from_millis(350));
        }
    }

    println!("\nThe registry, as a table:\n");
    println!(
        "{:<10} {:<8} {:>12} {:>12}",
        "breaker", "state", "times opened", "rejections"
    );
    for b in registry().breakers() {
        let state = format!("{:?}", b.state);
        println!(
            "{:<10} {:<8} {:>12} {:>12}",
            b.name, state, b.times_opened, b.rejections
        );
    }

    println!("\nThe registry's health, as JSON:\n");
    println!("{}", serde_json::to_string_pretty(&registry().health())?);

    println!("\nWhat the monitor saw:\n");
    println!(
        "{}",
        serde_json::to_string_pretty(&resilience::monitor().health())?
    );
    Ok(())
}
