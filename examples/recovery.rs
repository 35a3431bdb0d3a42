//! Recovery: a health-checked service goes healthy → degraded → failed, comes back
//! through a gradual traffic ramp, and a health-check suite reports on it. Runs on
//! paused tokio time, so it finishes at once.
//!
//! Run it with `cargo run --example recovery`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use resilience::recovery::{RampConfig, Recovery, RecoveryConfig};

#[tokio::main(flavor = "current_thread", start_paused = true)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let recovery = Recovery::new();
    recovery.configure(
        "inventory",
        RecoveryConfig {
            ramp: RampConfig::new([10, 25, 50, 75, 100], Duration::from_secs(30))?,
            ..Default::default()
        },
    )?;

    let up = Arc::new(AtomicBool::new(false));
    let probe = up.clone();
    recovery.register_check("inventory", Duration::from_secs(10), move || {
        let up = probe.load(Ordering::SeqCst);
        async move {
            if up {
                Ok(())
            } else {
                Err("connection refused")
            }
        }
    })?;
    let checks = recovery.spawn(Duration::from_secs(1))?;

    let show = |label: &str| {
        println!(
            "{label:<28} state = {:<10} traffic = {:>3} %",
            recovery
                .state("inventory")
                .map_or("unknown", |s| s.as_str()),
            recovery.ramp_percent("inventory"),
        )
    };

    tokio::time::sleep(Duration::from_secs(25)).await;
    show("after 3 failed checks");
    tokio::time::sleep(Duration::from_secs(70)).await;
    show("after 10 failed checks");

    up.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(30)).await;
    show("after 3 passing checks");
    for _ in 0..4 {
        let admitted = (0..100)
            .filter(|_| recovery.should_route_to("inventory"))
            .count();
        println!("    {admitted} of the next 100 calls go to inventory");
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
    show("after the ramp");
    checks.abort();

    let report = recovery.check_all().await;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
