//! `#[circuit_breaker]` and the registry at run time: opening on failures, rejecting,
//! recovering through half-open, and being inspected, reconfigured and reset.
//!
//! Run it with `cargo run --example breaker`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use resilience::{
    circuit_breaker, registry, BreakerConfig, BreakerState, CircuitOpen, MarcusError,
};

#[derive(Debug, thiserror::Error, MarcusError)]
enum PaymentError {
    #[error("payment gateway unavailable")]
    #[marcus(category = integration)]
    Unavailable,
    #[error(transparent)]
    CircuitOpen(#[from] CircuitOpen),
}

static GATEWAY_UP: AtomicBool = AtomicBool::new(false);

#[circuit_breaker(name = "payments", failure_threshold = 3, recovery_timeout = 200ms, success_threshold = 1)]
fn charge(cents: u64) -> Result<u64, PaymentError> {
    if GATEWAY_UP.load(Ordering::SeqCst) {
        Ok(cents)
    } else {
        Err(PaymentError::Unavailable)
    }
}

fn show(label: &str) {
    let state = registry().breaker("payments").map(|b| b.state());
    println!("{label:<36} state = {state:?}");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for i in 1..=4 {
        match charge(100 * i) {
            Ok(c) => println!("charged {c}"),
            Err(PaymentError::CircuitOpen(open)) => {
                println!(
                    "rejected at once: {open} (retry in {:?})",
                    open.retry_after()
                )
            }
            Err(e) => println!("failed: {e}"),
        }
    }
    show("after three failures");

    std::thread::sleep(Duration::from_millis(250));
    GATEWAY_UP.store(true, Ordering::SeqCst);
    println!("charged {}", charge(500)?);
    show("after a successful trial");
    assert_eq!(
        registry().breaker("payments").unwrap().state(),
        BreakerState::Closed
    );

    // Reconfigure at run time: the registry's values win over the attribute's.
    registry().configure(
        "payments",
        BreakerConfig {
            failure_threshold: 1,
            ..Default::default()
        },
    )?;
    GATEWAY_UP.store(false, Ordering::SeqCst);
    let _ = charge(600);
    show("one failure with failure_threshold 1");

    registry().breaker("payments").unwrap().reset();
    show("after reset");

    let bad = registry().configure(
        "payments",
        BreakerConfig {
            failure_threshold: 0,
            ..Default::default()
        },
    );
    println!("an invalid configuration is refused: {}", bad.unwrap_err());

    println!("{}", serde_json::to_string_pretty(&registry().health())?);
    Ok(())
}
