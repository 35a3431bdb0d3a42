//! Configuration from a file and the environment: `examples/resilience.toml` loaded,
//! a `RESILIENCE__…` variable over it, a `#[retry]` without a policy reached by its
//! function's path, an invalid file refused, the effective configuration written back,
//! and a watcher applying a rewrite.
//!
//! Run it with `cargo run -p resilience-tests --example config --features config`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use resilience::{registry, retry, BreakerConfig};

static CALLS: AtomicU32 = AtomicU32::new(0);

/// No `policy = ".."`: the file's `[retry."config::sync_board"]` still reaches it.
#[retry(max_attempts = 2, backoff = none)]
fn sync_board() -> Result<(), std::io::Error> {
    CALLS.fetch_add(1, Ordering::SeqCst);
    Err(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "board timed out",
    ))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/resilience.toml");

    // The environment wins over the file (set here for the demo; normally the shell's).
    std::env::set_var("RESILIENCE__BREAKER__KANBAN__FAILURE_THRESHOLD", "4");
    let applied = resilience::config::load(sample)?;
    std::env::remove_var("RESILIENCE__BREAKER__KANBAN__FAILURE_THRESHOLD");
    println!("applied {} values from {sample}", applied.len());

    let kanban = registry().register("kanban", BreakerConfig::default())?;
    println!(
        "breaker kanban: failure_threshold {} (from the environment), recovery_timeout {:?}",
        kanban.config().failure_threshold,
        kanban.config().recovery_timeout
    );

    let _ = sync_board();
    println!(
        "sync_board made {} calls (the attribute says 2, the file 4)",
        CALLS.load(Ordering::SeqCst)
    );

    // An invalid file: refused with where and why, and nothing of it applied.
    let bad = std::env::temp_dir().join("resilience-example-bad.toml");
    std::fs::write(
        &bad,
        "[retry.kanban]\nmax_attempts = 9\n\n[breaker.kanban]\nfailure_threshold = 0\n",
    )?;
    let err = resilience::config::load(&bad).unwrap_err();
    println!("refused: {err}");
    println!(
        "retry kanban still has max_attempts {}",
        registry()
            .retry_policy("kanban")
            .map_or(0, |p| p.max_attempts)
    );

    // What is in force, as TOML.
    println!(
        "\n# the effective configuration\n{}",
        resilience::config::effective().to_toml()?
    );

    // A watched file, rewritten.
    let live = std::env::temp_dir().join("resilience-example-live.toml");
    std::fs::write(&live, "[breaker.kanban]\nfailure_threshold = 3\n")?;
    let watcher = resilience::config::watch_every(&live, Duration::from_millis(50))?;
    std::fs::write(&live, "[breaker.kanban]\nfailure_threshold = 8\n")?;
    let deadline = Instant::now() + Duration::from_secs(5);
    while kanban.config().failure_threshold != 8 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    println!(
        "after the rewrite: failure_threshold {} ({} loads)",
        kanban.config().failure_threshold,
        watcher.reloads()
    );
    drop(watcher);
    std::fs::remove_file(&bad)?;
    std::fs::remove_file(&live)?;
    Ok(())
}
