//! Model checks of the bulkhead's place accounting and the rate limiter's GCRA state
//! under every interleaving loom explores.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p resilience --no-default-features --test loom_patterns --release`
//! (`LOOM_MAX_PREEMPTIONS` bounds the search; 2 unless set).
#![cfg(loom)]

use std::time::Duration;

use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::sync::Arc;
use loom::thread;
use resilience::bulkhead::Bulkhead;
use resilience::clock::ManualClock;
use resilience::rate_limit::RateLimiter;
use resilience::{BulkheadConfig, RateLimitConfig};

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(2);
    }
    builder.check(f);
}

/// Three callers race for two places: never more than two run, every place comes back.
#[test]
fn bulkhead_never_admits_more_than_max_and_gives_every_place_back() {
    model(|| {
        let b = Arc::new(
            Bulkhead::new(
                "loom.bulkhead",
                BulkheadConfig {
                    max_concurrent: 2,
                    ..Default::default()
                },
            )
            .expect("valid"),
        );
        let running = Arc::new(AtomicUsize::new(0));
        let admitted = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let (b, running, admitted) = (b.clone(), running.clone(), admitted.clone());
                thread::spawn(move || {
                    if let Some(permit) = b.try_acquire() {
                        let now = running.fetch_add(1, SeqCst) + 1;
                        assert!(now <= 2, "{now} running at once");
                        admitted.fetch_add(1, SeqCst);
                        running.fetch_sub(1, SeqCst);
                        drop(permit);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(b.in_flight(), 0, "a place was lost");
        assert!(admitted.load(SeqCst) >= 2, "a free place was refused");
    });
}

/// A smaller limit set while calls race: the count never goes negative or leaks.
#[test]
fn bulkhead_reconfigured_while_calls_race_keeps_its_count() {
    model(|| {
        let b = Arc::new(
            Bulkhead::new(
                "loom.bulkhead.cfg",
                BulkheadConfig {
                    max_concurrent: 2,
                    ..Default::default()
                },
            )
            .expect("valid"),
        );
        let caller = {
            let b = b.clone();
            thread::spawn(move || {
                let _p = b.try_acquire();
            })
        };
        b.configure(BulkheadConfig {
            max_concurrent: 1,
            ..Default::default()
        })
        .expect("valid");
        let _q = b.try_acquire();
        caller.join().unwrap();
        drop(_q);
        assert_eq!(b.in_flight(), 0);
    });
}

/// Three calls at one instant against a burst of two: exactly two admitted, whatever
/// the interleaving of their compare-and-swaps, and the third told one interval.
#[test]
fn rate_limiter_admits_exactly_the_burst_at_once() {
    model(|| {
        let clock = ManualClock::new();
        clock.set(Duration::from_secs(10));
        let l = Arc::new(
            RateLimiter::new(
                "loom.rate",
                RateLimitConfig {
                    limit: 10,
                    per: Duration::from_secs(1),
                    burst: Some(2),
                    ..Default::default()
                },
            )
            .expect("valid")
            .with_clock(std::sync::Arc::new(clock)),
        );
        let admitted = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let (l, admitted) = (l.clone(), admitted.clone());
                thread::spawn(move || match l.check() {
                    Ok(delay) => {
                        assert_eq!(delay, Duration::ZERO);
                        admitted.fetch_add(1, SeqCst);
                    }
                    Err(limited) => assert_eq!(limited.retry_after, Duration::from_millis(100)),
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(admitted.load(SeqCst), 2);
    });
}
