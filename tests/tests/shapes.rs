//! Every shape of function the attributes accept: free, methods on `self`, `&self` and
//! `&mut self`, generics with where-clauses, trait impls (native `async fn` and
//! `#[async_trait]`), results through aliases, and `?` / `return` in the body.

use std::cell::Cell;
use std::fmt::Display;
use std::io;

use resilience::{circuit_breaker, error_context, fallback, retry};

#[derive(Debug, PartialEq)]
struct Flaky(&'static str);

impl std::fmt::Display for Flaky {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}
impl std::error::Error for Flaky {}

impl From<resilience::CircuitOpen> for Flaky {
    fn from(_: resilience::CircuitOpen) -> Self {
        Flaky("circuit open")
    }
}

struct Counter {
    calls: u32,
    fail_first: u32,
}

impl Counter {
    #[retry(max_attempts = 5, backoff = none)]
    fn by_mut_ref(&mut self) -> Result<u32, Flaky> {
        self.calls += 1;
        if self.calls <= self.fail_first {
            return Err(Flaky("not yet"));
        }
        Ok(self.calls)
    }

    #[retry(max_attempts = 3, backoff = none)]
    fn by_ref(&self, seen: &Cell<u32>) -> Result<u32, Flaky> {
        seen.set(seen.get() + 1);
        if seen.get() < 2 {
            Err(Flaky("once"))
        } else {
            Ok(self.fail_first)
        }
    }

    #[retry(max_attempts = 2, backoff = none)]
    fn by_value(self) -> Result<u32, Flaky> {
        if self.fail_first > 0 {
            Err(Flaky("never"))
        } else {
            Ok(self.calls)
        }
    }

    #[retry(max_attempts = 4, backoff = none)]
    async fn async_by_mut_ref(&mut self) -> Result<u32, Flaky> {
        self.calls += 1;
        tokio::task::yield_now().await;
        if self.calls <= self.fail_first {
            return Err(Flaky("not yet"));
        }
        Ok(self.calls)
    }
}

#[test]
fn methods_on_mut_ref_ref_and_value() {
    let mut c = Counter {
        calls: 0,
        fail_first: 2,
    };
    assert_eq!(c.by_mut_ref(), Ok(3));
    assert_eq!(c.calls, 3);

    let seen = Cell::new(0);
    assert_eq!(c.by_ref(&seen), Ok(2));
    assert_eq!(seen.get(), 2);

    assert_eq!(
        Counter {
            calls: 7,
            fail_first: 0
        }
        .by_value(),
        Ok(7)
    );
    assert_eq!(
        Counter {
            calls: 7,
            fail_first: 1
        }
        .by_value(),
        Err(Flaky("never"))
    );
}

#[tokio::test]
async fn async_method_on_mut_ref() {
    let mut c = Counter {
        calls: 0,
        fail_first: 3,
    };
    assert_eq!(c.async_by_mut_ref().await, Ok(4));
}

#[retry(max_attempts = 3, backoff = none)]
fn generic<T, F>(make: F, tries: &Cell<u32>) -> Result<T, String>
where
    T: Clone + Display,
    F: Fn(u32) -> Option<T>,
{
    tries.set(tries.get() + 1);
    make(tries.get()).ok_or_else(|| format!("no value at try {}", tries.get()))
}

#[test]
fn generic_functions_with_where_clauses() {
    let tries = Cell::new(0);
    let value = generic(|n| (n == 3).then(|| "third".to_string()), &tries);
    assert_eq!(value.as_deref(), Ok("third"));
    assert_eq!(tries.get(), 3);
}

#[retry(max_attempts = 3, backoff = none)]
fn through_io_alias(tries: &Cell<u32>) -> io::Result<u32> {
    tries.set(tries.get() + 1);
    let parsed: u32 = "12".parse().map_err(|_| io::Error::other("bad"))?;
    if tries.get() < 3 {
        return Err(io::Error::new(io::ErrorKind::TimedOut, "slow"));
    }
    Ok(parsed + tries.get())
}

type AppResult<T> = Result<T, anyhow::Error>;

#[retry(max_attempts = 2, backoff = none)]
fn through_anyhow_alias(tries: &Cell<u32>) -> AppResult<&'static str> {
    tries.set(tries.get() + 1);
    anyhow::ensure!(tries.get() >= 2, "first call fails");
    Ok("ok")
}

#[test]
fn results_through_aliases_and_question_mark() {
    let tries = Cell::new(0);
    assert_eq!(through_io_alias(&tries).unwrap(), 15);
    let tries = Cell::new(0);
    assert_eq!(through_anyhow_alias(&tries).unwrap(), "ok");
    assert_eq!(tries.get(), 2);
}

#[retry(max_attempts = 3, backoff = none)]
fn impl_trait_in_result(tries: &Cell<u32>) -> Result<impl Display, Flaky> {
    tries.set(tries.get() + 1);
    if tries.get() < 2 {
        return Err(Flaky("first"));
    }
    Ok(tries.get())
}

#[test]
fn impl_trait_in_the_ok_type() {
    let tries = Cell::new(0);
    assert_eq!(impl_trait_in_result(&tries).unwrap().to_string(), "2");
}

trait Board {
    fn fetch(&self, id: u64) -> Result<String, Flaky>;
    async fn fetch_async(&self, id: u64) -> Result<String, Flaky>;
}

struct Remote {
    failures_left: Cell<u32>,
}

impl Board for Remote {
    #[retry(max_attempts = 3, backoff = none)]
    #[error_context("fetch")]
    fn fetch(&self, id: u64) -> Result<String, Flaky> {
        if self.failures_left.get() > 0 {
            self.failures_left.set(self.failures_left.get() - 1);
            return Err(Flaky("remote down"));
        }
        Ok(format!("board {id}"))
    }

    #[retry(max_attempts = 3, backoff = none)]
    async fn fetch_async(&self, id: u64) -> Result<String, Flaky> {
        if self.failures_left.get() > 0 {
            self.failures_left.set(self.failures_left.get() - 1);
            return Err(Flaky("remote down"));
        }
        Ok(format!("board {id}"))
    }
}

#[tokio::test]
async fn trait_impls_sync_and_native_async() {
    let remote = Remote {
        failures_left: Cell::new(2),
    };
    assert_eq!(remote.fetch(1).unwrap(), "board 1");
    remote.failures_left.set(2);
    assert_eq!(remote.fetch_async(2).await.unwrap(), "board 2");
}

#[async_trait::async_trait]
trait Store: Send + Sync {
    async fn load(&self, key: &str) -> Result<String, Flaky>;
}

struct Shared {
    failures_left: std::sync::atomic::AtomicU32,
}

fn cached_load(_store: &Shared, key: &str) -> Result<String, Flaky> {
    Ok(format!("cached {key}"))
}

#[async_trait::async_trait]
impl Store for Shared {
    #[retry(max_attempts = 3, backoff = none)]
    async fn load(&self, key: &str) -> Result<String, Flaky> {
        use std::sync::atomic::Ordering;
        if self.failures_left.load(Ordering::SeqCst) > 0 {
            self.failures_left.fetch_sub(1, Ordering::SeqCst);
            return Err(Flaky("store down"));
        }
        Ok(format!("value of {key}"))
    }
}

#[tokio::test]
async fn async_trait_bodies_are_retried() {
    let store = Shared {
        failures_left: 2.into(),
    };
    assert_eq!(store.load("k").await.unwrap(), "value of k");
    let store = Shared {
        failures_left: 5.into(),
    };
    assert_eq!(store.load("k").await, Err(Flaky("store down")));
    assert_eq!(cached_load(&store, "k").unwrap(), "cached k");
}

#[circuit_breaker(name = "shapes.generic")]
#[fallback(default_len)]
fn len_or_default<T: AsRef<str>>(value: T) -> Result<usize, Flaky> {
    let s = value.as_ref();
    if s.is_empty() {
        Err(Flaky("empty"))
    } else {
        Ok(s.len())
    }
}

fn default_len<T: AsRef<str>>(_value: T) -> Result<usize, Flaky> {
    Ok(0)
}

#[test]
fn breaker_and_fallback_on_generic_functions() {
    assert_eq!(len_or_default("abc"), Ok(3));
    assert_eq!(len_or_default(String::new()), Ok(0));
}

// How a body is written depends on its ways out: one with none is inline as it is; one
// with `return` or `?` is inline with those rewritten as breaks out of it; one with a
// macro that might return runs as a closure or async block of its own. All of them must
// pass every layer alike: each attempt retried, each call's last error counted by the
// breaker, `?` converting the error with `From`.

impl From<std::num::ParseIntError> for Flaky {
    fn from(_: std::num::ParseIntError) -> Self {
        Flaky("not a number")
    }
}

/// Leaves the function from inside a macro, where no rewrite can see it.
macro_rules! give_up {
    () => {
        return Err(Flaky("not a number"))
    };
}

#[circuit_breaker(name = "shapes.plain_sync", failure_threshold = 2)]
#[retry(max_attempts = 3, backoff = none)]
fn plain_sync(calls: &Cell<u32>) -> Result<u32, Flaky> {
    calls.set(calls.get() + 1);
    Err(Flaky("not a number"))
}

#[circuit_breaker(name = "shapes.rewritten_sync", failure_threshold = 2)]
#[retry(max_attempts = 3, backoff = none)]
fn rewritten_sync(calls: &Cell<u32>) -> Result<u32, Flaky> {
    calls.set(calls.get() + 1);
    for _ in 0..2 {
        if calls.get() > 0 {
            return Err(Flaky("not a number"));
        }
    }
    Ok(calls.get())
}

#[circuit_breaker(name = "shapes.nested_sync", failure_threshold = 2)]
#[retry(max_attempts = 3, backoff = none)]
fn nested_sync(calls: &Cell<u32>) -> Result<u32, Flaky> {
    calls.set(calls.get() + 1);
    if calls.get() > 0 {
        give_up!();
    }
    Ok(calls.get())
}

#[circuit_breaker(name = "shapes.plain_async", failure_threshold = 2)]
#[retry(max_attempts = 3, backoff = none)]
async fn plain_async(calls: &Cell<u32>) -> Result<u32, Flaky> {
    calls.set(calls.get() + 1);
    tokio::task::yield_now().await;
    Err(Flaky("not a number"))
}

#[circuit_breaker(name = "shapes.rewritten_async", failure_threshold = 2)]
#[retry(max_attempts = 3, backoff = none)]
async fn rewritten_async(calls: &Cell<u32>) -> Result<u32, Flaky> {
    calls.set(calls.get() + 1);
    tokio::task::yield_now().await;
    let n: u32 = "seven".parse()?;
    Ok(n)
}

#[circuit_breaker(name = "shapes.nested_async", failure_threshold = 2)]
#[retry(max_attempts = 3, backoff = none)]
async fn nested_async(calls: &Cell<u32>) -> Result<u32, Flaky> {
    calls.set(calls.get() + 1);
    tokio::task::yield_now().await;
    if calls.get() > 0 {
        give_up!();
    }
    Ok(calls.get())
}

/// Three calls: two that fail three attempts each and open the breaker, then a refusal.
fn assert_retried_then_refused(calls: &Cell<u32>, outcomes: [Result<u32, Flaky>; 3]) {
    assert_eq!(
        outcomes,
        [
            Err(Flaky("not a number")),
            Err(Flaky("not a number")),
            Err(Flaky("circuit open"))
        ]
    );
    assert_eq!(
        calls.get(),
        6,
        "three attempts per call until the breaker opens"
    );
}

#[test]
fn every_way_of_writing_the_body_passes_the_layers_alike_sync() {
    for body in [plain_sync, rewritten_sync, nested_sync] {
        let calls = Cell::new(0);
        let outcomes = [body(&calls), body(&calls), body(&calls)];
        assert_retried_then_refused(&calls, outcomes);
    }
}

#[tokio::test]
async fn every_way_of_writing_the_body_passes_the_layers_alike_async() {
    // A macro: the three are distinct `async fn` types, borrowing `calls`.
    macro_rules! three_calls {
        ($body:ident) => {{
            let calls = Cell::new(0);
            let outcomes = [
                $body(&calls).await,
                $body(&calls).await,
                $body(&calls).await,
            ];
            assert_retried_then_refused(&calls, outcomes);
        }};
    }
    three_calls!(plain_async);
    three_calls!(rewritten_async);
    three_calls!(nested_async);
}

/// A `return` and a `?` rewritten as breaks still coerce to the function's error type:
/// `Box<Flaky>` into `Box<dyn Error>`, and `ParseIntError` through `From`.
#[retry(max_attempts = 2, backoff = none)]
fn boxed_error(fail: bool) -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
    if fail {
        return Err(Box::new(Flaky("boxed")));
    }
    let n: u32 = "7".parse()?;
    Ok(n)
}

#[test]
fn rewritten_ways_out_coerce_to_the_function_error() {
    assert_eq!(boxed_error(false).ok(), Some(7));
    assert_eq!(boxed_error(true).unwrap_err().to_string(), "boxed");
}
