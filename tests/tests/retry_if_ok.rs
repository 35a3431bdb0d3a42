//! `#[retry(retry_if_ok = path)]` (API section 12): an `Ok` the predicate names is retried
//! like an error; out of attempts, the last `Ok` is returned.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use resilience::retry;

// `&[u32]` for a `Vec<u32>`: the predicate is called with `&value`, so deref coercion
// applies as in any call.
fn is_empty(page: &[u32]) -> bool {
    page.is_empty()
}

static PAGES: Mutex<Vec<Vec<u32>>> = Mutex::new(Vec::new());
static CALLS: AtomicU32 = AtomicU32::new(0);

#[retry(max_attempts = 4, backoff = none, retry_if_ok = is_empty)]
fn next_page() -> Result<Vec<u32>, std::io::Error> {
    CALLS.fetch_add(1, Ordering::SeqCst);
    Ok(PAGES.lock().unwrap().pop().unwrap_or_default())
}

#[test]
fn an_ok_the_predicate_names_is_retried_and_the_last_ok_returned_out_of_attempts() {
    // Popped from the end: empty, empty, then a page.
    *PAGES.lock().unwrap() = vec![vec![7], vec![], vec![]];
    assert_eq!(next_page().unwrap(), [7]);
    assert_eq!(CALLS.swap(0, Ordering::SeqCst), 3);
    // Never a page: every attempt made, the last (empty) `Ok` is the answer.
    assert_eq!(next_page().unwrap(), Vec::<u32>::new());
    assert_eq!(CALLS.swap(0, Ordering::SeqCst), 4);
}

static PENDING: AtomicU32 = AtomicU32::new(0);

fn pending(status: &&'static str) -> bool {
    *status == "pending"
}

#[retry(max_attempts = 3, backoff = fixed(250ms), jitter = none, retry_if_ok = pending)]
async fn job_status() -> Result<&'static str, std::io::Error> {
    let n = PENDING.fetch_add(1, Ordering::SeqCst);
    if n == 0 {
        return Err(std::io::Error::from(std::io::ErrorKind::TimedOut));
    }
    Ok(if n < 2 { "pending" } else { "done" })
}

#[tokio::test(start_paused = true)]
async fn errors_and_retried_oks_share_the_attempts_and_the_backoff() {
    let start = tokio::time::Instant::now();
    assert_eq!(job_status().await.unwrap(), "done");
    assert_eq!(PENDING.load(Ordering::SeqCst), 3);
    assert_eq!(start.elapsed(), Duration::from_millis(500));
}
