//! Feature switches: an optional feature that switches itself off after repeated
//! failures, serves its fallback meanwhile, and is switched back on by hand.
//!
//! Run it with `cargo run --example degradation`.

use std::sync::atomic::{AtomicBool, Ordering};

use resilience::degradation;

static RECOMMENDER_UP: AtomicBool = AtomicBool::new(false);

fn fetch_recommendations(user: &str) -> Result<Vec<String>, String> {
    if RECOMMENDER_UP.load(Ordering::SeqCst) {
        Ok(vec![format!("book for {user}"), format!("film for {user}")])
    } else {
        Err("recommender timed out".into())
    }
}

fn main() {
    // The handle keeps the feature's state: each check below is one atomic load.
    let recommendations = degradation().register("recommendations", Vec::<String>::new());

    for attempt in 1..=5 {
        let enabled = recommendations.is_enabled();
        let result = recommendations.call(|| fetch_recommendations("ada"));
        println!("call {attempt}: enabled = {enabled:<5} result = {result:?}");
    }
    println!("disabled by: {:?}", recommendations.disabled_by());

    RECOMMENDER_UP.store(true, Ordering::SeqCst);
    degradation().enable("recommendations");
    println!(
        "after enable: {:?}",
        recommendations.call(|| fetch_recommendations("ada"))
    );

    let snapshot = serde_json::to_string_pretty(&degradation().snapshot()).expect("serializable");
    println!("{snapshot}");
}
