//! Model checks of the adaptive limit's places under every interleaving loom explores:
//! no place lost or given twice, whether calls end, wait, are handed a place, or give
//! up waiting (a cancelled waiter that was just handed a place hands it on).
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test -p resilience --no-default-features --test loom_adaptive --release`
//! (`LOOM_MAX_PREEMPTIONS` bounds the search; 2 unless set).
#![cfg(loom)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::sync::Arc;
use loom::thread;
use resilience::adaptive_limit::AdaptiveLimiter;
use resilience::clock::ManualClock;
use resilience::{AdaptiveLimitConfig, Priority};

/// Polls `fut` to the end, yielding to the other threads while it is pending.
fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        thread::yield_now();
    }
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(2);
    }
    builder.check(f);
}

/// A limit of `limit` places whose waiting calls wait an hour (the timer never fires).
fn limiter(limit: u32) -> Arc<AdaptiveLimiter> {
    let config = AdaptiveLimitConfig {
        min_limit: limit,
        max_limit: limit,
        initial_limit: limit,
        max_wait: Duration::from_secs(3600),
        ..Default::default()
    };
    let clock: std::sync::Arc<dyn resilience::clock::Clock> =
        std::sync::Arc::new(ManualClock::new());
    Arc::new(
        AdaptiveLimiter::new("loom.adaptive", config)
            .expect("valid")
            .with_clock(clock),
    )
}

/// Two calls race for one place while a third waits for it: never two at once, the
/// waiter is served, every place comes back.
#[test]
fn a_place_is_never_given_twice_nor_lost() {
    model(|| {
        let l = limiter(1);
        let running = Arc::new(AtomicUsize::new(0));
        let racers: Vec<_> = (0..2)
            .map(|_| {
                let (l, running) = (l.clone(), running.clone());
                thread::spawn(move || {
                    if let Some(permit) = l.try_acquire() {
                        assert_eq!(running.fetch_add(1, SeqCst), 0, "two calls at once");
                        running.fetch_sub(1, SeqCst);
                        drop(permit);
                    }
                })
            })
            .collect();
        let waiter = {
            let (l, running) = (l.clone(), running.clone());
            thread::spawn(move || {
                let permit = block_on(l.acquire(Priority::High)).expect("served");
                assert_eq!(running.fetch_add(1, SeqCst), 0, "two calls at once");
                running.fetch_sub(1, SeqCst);
                drop(permit);
            })
        };
        for t in racers {
            t.join().unwrap();
        }
        waiter.join().unwrap();
        assert_eq!(l.in_flight(), 0, "a place was lost");
        assert_eq!(l.snapshot().waiting, 0);
        assert!(l.try_acquire().is_some());
    });
}

/// A waiting call gives up (its future dropped) while the call holding the place ends:
/// whether or not it was handed the place first, the place comes back.
#[test]
fn a_cancelled_waiter_hands_its_place_on() {
    model(|| {
        let l = limiter(1);
        let giver = {
            let l = l.clone();
            thread::spawn(move || drop(l.try_acquire()))
        };
        let waiter = {
            let l = l.clone();
            thread::spawn(move || {
                let mut wait = pin!(l.acquire(Priority::Normal));
                let mut cx = Context::from_waker(Waker::noop());
                if let Poll::Ready(Ok(permit)) = wait.as_mut().poll(&mut cx) {
                    drop(permit);
                }
                // Dropped here, waiting or just handed the place.
            })
        };
        giver.join().unwrap();
        waiter.join().unwrap();
        assert_eq!(l.in_flight(), 0, "a place was lost");
        assert_eq!(l.snapshot().waiting, 0);
        assert!(l.try_acquire().is_some(), "the place is free");
    });
}

/// Two calls of two priorities try once for a place another call holds for a moment:
/// whatever the order, no place is lost and nobody is left in the room.
#[test]
fn a_freed_place_goes_to_one_waiter() {
    model(|| {
        let l = limiter(1);
        let holder = {
            let l = l.clone();
            thread::spawn(move || drop(l.try_acquire()))
        };
        let served = Arc::new(AtomicUsize::new(0));
        let waiters: Vec<_> = [Priority::Low, Priority::Critical]
            .into_iter()
            .map(|priority| {
                let (l, served) = (l.clone(), served.clone());
                thread::spawn(move || {
                    let mut wait = pin!(l.acquire(priority));
                    let mut cx = Context::from_waker(Waker::noop());
                    if let Poll::Ready(Ok(permit)) = wait.as_mut().poll(&mut cx) {
                        served.fetch_add(1, SeqCst);
                        drop(permit);
                    }
                })
            })
            .collect();
        holder.join().unwrap();
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(l.in_flight(), 0);
        assert_eq!(l.snapshot().waiting, 0);
    });
}
