//! `#[hedge]` as a user writes it, on paused tokio time: which run answers, when each
//! run starts, and that the losers are dropped.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use resilience::{
    circuit_breaker, fallback, hedge, registry, retry, timeout, CircuitOpen, HedgeConfig,
    MarcusError, TimedOut,
};
use tokio::time::Instant;

#[derive(Debug, PartialEq, thiserror::Error, MarcusError)]
enum CallError {
    #[error("run {0} failed, worth another try")]
    #[marcus(category = transient)]
    Transient(u32),
    #[error("run {0} was refused for good")]
    #[marcus(category = business_logic)]
    Refused(u32),
    #[error(transparent)]
    TimedOut(#[from] TimedOut),
    #[error(transparent)]
    CircuitOpen(#[from] CircuitOpen),
}

/// What run `n` does: wait, then answer.
#[derive(Clone, Copy, Debug)]
enum Answer {
    Ok,
    Transient,
    Refused,
}

/// A script of runs, and a log of what happened to each, in virtual milliseconds since
/// the plan was made.
struct Plan {
    start: Instant,
    runs: AtomicU32,
    script: Vec<(u64, Answer)>,
    log: Mutex<Vec<(u32, &'static str, u64)>>,
}

impl Plan {
    fn new(script: &[(u64, Answer)]) -> Plan {
        Plan {
            start: Instant::now(),
            runs: AtomicU32::new(0),
            script: script.to_vec(),
            log: Mutex::new(Vec::new()),
        }
    }

    fn note(&self, run: u32, what: &'static str) {
        let at = self.start.elapsed().as_millis() as u64;
        self.log.lock().unwrap().push((run, what, at));
    }

    fn log(&self) -> Vec<(u32, &'static str, u64)> {
        self.log.lock().unwrap().clone()
    }

    fn runs(&self) -> u32 {
        self.runs.load(Ordering::SeqCst)
    }

    /// One run of the body: what it holds is released when it is dropped, finished or not.
    async fn run(&self) -> Result<u32, CallError> {
        let run = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
        self.note(run, "started");
        let mut guard = Guard {
            plan: self,
            run,
            finished: false,
        };
        let (wait, answer) = self.script[run as usize - 1];
        tokio::time::sleep(Duration::from_millis(wait)).await;
        guard.finished = true;
        match answer {
            Answer::Ok => Ok(run),
            Answer::Transient => Err(CallError::Transient(run)),
            Answer::Refused => Err(CallError::Refused(run)),
        }
    }
}

/// Held by a run; says on drop whether the run had finished or was dropped mid-way.
struct Guard<'a> {
    plan: &'a Plan,
    run: u32,
    finished: bool,
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        let what = if self.finished { "finished" } else { "dropped" };
        self.plan.note(self.run, what);
    }
}

#[hedge(delay = 50ms, max_hedges = 2)]
async fn scripted(plan: &Plan) -> Result<u32, CallError> {
    plan.run().await
}

#[tokio::test(start_paused = true)]
async fn the_faster_run_answers_and_the_slower_is_dropped() {
    let plan = Plan::new(&[(1_000, Answer::Ok), (10, Answer::Ok), (10, Answer::Ok)]);
    assert_eq!(scripted(&plan).await, Ok(2));
    assert_eq!(plan.start.elapsed(), Duration::from_millis(60));
    // The hedge started at 50 ms and answered at 60; the first run, still waiting, was
    // dropped then, with what it held. No third run: an answer came before 100 ms.
    assert_eq!(
        plan.log(),
        [
            (1, "started", 0),
            (2, "started", 50),
            (2, "finished", 60),
            (1, "dropped", 60)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn no_hedge_starts_when_the_first_run_answers_in_time() {
    let plan = Plan::new(&[(49, Answer::Ok), (10, Answer::Ok)]);
    assert_eq!(scripted(&plan).await, Ok(1));
    assert_eq!(plan.start.elapsed(), Duration::from_millis(49));
    // Long past the delay, still one run: the call's timer went with it.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(plan.runs(), 1);
    assert_eq!(plan.log(), [(1, "started", 0), (1, "finished", 49)]);
}

#[tokio::test(start_paused = true)]
async fn a_retryable_failure_starts_the_next_run_at_once() {
    let plan = Plan::new(&[(10, Answer::Transient), (5, Answer::Ok)]);
    assert_eq!(scripted(&plan).await, Ok(2));
    assert_eq!(plan.start.elapsed(), Duration::from_millis(15));
    assert_eq!(
        plan.log(),
        [
            (1, "started", 0),
            (1, "finished", 10),
            (2, "started", 10),
            (2, "finished", 15)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_failure_that_is_not_retryable_starts_nothing_and_returns() {
    let plan = Plan::new(&[(10, Answer::Refused), (5, Answer::Ok)]);
    assert_eq!(scripted(&plan).await, Err(CallError::Refused(1)));
    assert_eq!(plan.start.elapsed(), Duration::from_millis(10));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(plan.runs(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_failure_that_is_not_retryable_ends_the_call_and_drops_the_other_runs() {
    let plan = Plan::new(&[(1_000, Answer::Ok), (10, Answer::Refused), (10, Answer::Ok)]);
    assert_eq!(scripted(&plan).await, Err(CallError::Refused(2)));
    assert_eq!(plan.start.elapsed(), Duration::from_millis(60));
    assert_eq!(plan.log().last(), Some(&(1, "dropped", 60)));
    assert_eq!(plan.runs(), 2);
}

#[tokio::test(start_paused = true)]
async fn when_every_run_fails_the_last_error_returns() {
    // Run 1 fails at 100 ms; run 2 starts at 50 (the delay) and fails at 80, which starts
    // run 3 at once; run 3 fails at 120, last.
    let plan = Plan::new(&[
        (100, Answer::Transient),
        (30, Answer::Transient),
        (40, Answer::Transient),
    ]);
    assert_eq!(scripted(&plan).await, Err(CallError::Transient(3)));
    assert_eq!(plan.start.elapsed(), Duration::from_millis(120));
    assert_eq!(
        plan.log(),
        [
            (1, "started", 0),
            (2, "started", 50),
            (2, "finished", 80),
            (3, "started", 80),
            (1, "finished", 100),
            (3, "finished", 120)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn each_further_hedge_waits_another_delay() {
    let plan = Plan::new(&[
        (1_000, Answer::Ok),
        (1_000, Answer::Ok),
        (1_000, Answer::Ok),
    ]);
    assert_eq!(scripted(&plan).await, Ok(1));
    // Runs at 0, 50 and 100 ms, no fourth (max_hedges = 2); the first answers at 1 s.
    let starts: Vec<_> = plan
        .log()
        .into_iter()
        .filter(|(_, what, _)| *what == "started")
        .map(|(run, _, at)| (run, at))
        .collect();
    assert_eq!(starts, [(1, 0), (2, 50), (3, 100)]);
}

// Run time configuration wins over the attribute's keys.

#[hedge(name = "hedge_attr.configured", delay = 50ms)]
async fn configured(plan: &Plan) -> Result<u32, CallError> {
    plan.run().await
}

#[tokio::test(start_paused = true)]
async fn the_registry_configuration_wins_and_counts_show_in_health() {
    registry()
        .configure_hedge(
            "hedge_attr.configured",
            HedgeConfig {
                delay: Duration::from_millis(5),
                max_hedges: 1,
            },
        )
        .unwrap();
    let plan = Plan::new(&[(1_000, Answer::Ok), (1, Answer::Ok)]);
    assert_eq!(configured(&plan).await, Ok(2));
    assert_eq!(plan.start.elapsed(), Duration::from_millis(6));
    let health = registry().health();
    let snapshot = health
        .hedges
        .iter()
        .find(|h| h.name == "hedge_attr.configured")
        .expect("the call site registered its hedge");
    assert_eq!(
        (
            snapshot.hedged_calls,
            snapshot.hedges_started,
            snapshot.hedge_wins
        ),
        (1, 1, 1)
    );
    assert_eq!(snapshot.config.delay, Duration::from_millis(5));
    let json = serde_json::to_value(&health).unwrap();
    assert!(json["hedges"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["name"] == "hedge_attr.configured" && h["config"]["delay"] == "5ms"));
}

// Shapes: methods on `&self`, generics, owned and borrowed arguments, `?` and `return`.

struct Client {
    base: String,
    calls: AtomicU32,
}

impl Client {
    #[hedge(delay = 10ms)]
    async fn fetch(&self, path: &str, attempt_limit: u32) -> Result<String, CallError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if call > attempt_limit {
            return Err(CallError::Refused(call));
        }
        if call == 1 {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let checked: u32 = ok_or_transient(call)?;
        Ok(format!("{}/{path}#{checked}", self.base))
    }
}

fn ok_or_transient(call: u32) -> Result<u32, CallError> {
    Ok(call)
}

#[hedge(delay = 10ms)]
async fn first_of<T>(items: &[T], owned: String) -> Result<(T, usize), CallError>
where
    T: Clone + Send + Sync + std::fmt::Debug,
{
    match items.first() {
        Some(item) => Ok((item.clone(), owned.len())),
        None => Err(CallError::Refused(0)),
    }
}

#[tokio::test(start_paused = true)]
async fn methods_generics_and_borrowed_arguments_keep_working() {
    let client = Client {
        base: "http://127.0.0.1".into(),
        calls: AtomicU32::new(0),
    };
    assert_eq!(
        client.fetch("boards", 5).await.unwrap(),
        "http://127.0.0.1/boards#2"
    );
    assert_eq!(first_of(&[3, 4], "ab".into()).await, Ok((3, 2)));
    assert_eq!(
        first_of::<u8>(&[], String::new()).await,
        Err(CallError::Refused(0))
    );
}

#[tokio::test(start_paused = true)]
async fn a_hedged_future_is_send() {
    let client = std::sync::Arc::new(Client {
        base: "b".into(),
        calls: AtomicU32::new(0),
    });
    let spawned = tokio::spawn({
        let client = client.clone();
        async move { client.fetch("x", 5).await }
    });
    assert_eq!(spawned.await.unwrap().unwrap(), "b/x#2");
}

#[async_trait::async_trait]
trait Lookup {
    async fn lookup(&self, key: u32) -> Result<u32, CallError>;
}

struct Table;

#[async_trait::async_trait]
impl Lookup for Table {
    #[hedge(delay = 10ms)]
    async fn lookup(&self, key: u32) -> Result<u32, CallError> {
        Ok(key * 2)
    }
}

#[tokio::test(start_paused = true)]
async fn an_async_trait_method_can_be_hedged() {
    assert_eq!(Table.lookup(21).await, Ok(42));
}

// Stacks, in reading order.

#[retry(max_attempts = 2, backoff = none)]
#[hedge(delay = 50ms, max_hedges = 1)]
async fn retried_hedge(plan: &Plan) -> Result<u32, CallError> {
    plan.run().await
}

#[tokio::test(start_paused = true)]
async fn retry_outside_hedge_retries_the_whole_hedged_call() {
    // First call: runs 1 and 2 both fail (2 starting at once after 1's failure); the
    // retry makes a second hedged call, whose first run (3) answers.
    let plan = Plan::new(&[
        (10, Answer::Transient),
        (10, Answer::Transient),
        (10, Answer::Ok),
    ]);
    assert_eq!(retried_hedge(&plan).await, Ok(3));
    assert_eq!(plan.start.elapsed(), Duration::from_millis(30));
    assert_eq!(plan.runs(), 3);
}

#[hedge(delay = 50ms, max_hedges = 2)]
#[circuit_breaker(name = "hedge_attr.inner_breaker", failure_threshold = 1)]
async fn hedged_breaker(plan: &Plan) -> Result<u32, CallError> {
    plan.run().await
}

#[tokio::test(start_paused = true)]
async fn hedge_outside_a_breaker_sends_every_run_through_it() {
    // Run 1 fails (transient) and opens the breaker; run 2, started at once, is refused
    // by it without running; a refusal is not retryable, so the call ends with it.
    let plan = Plan::new(&[(10, Answer::Transient), (10, Answer::Ok), (10, Answer::Ok)]);
    let outcome = hedged_breaker(&plan).await;
    assert!(
        matches!(outcome, Err(CallError::CircuitOpen(_))),
        "{outcome:?}"
    );
    assert_eq!(plan.runs(), 1);
    assert_eq!(plan.start.elapsed(), Duration::from_millis(10));
}

#[timeout(30ms)]
#[hedge(delay = 20ms, max_hedges = 1)]
async fn timed_hedge(plan: &Plan) -> Result<u32, CallError> {
    plan.run().await
}

#[tokio::test(start_paused = true)]
async fn timeout_outside_hedge_bounds_the_whole_hedged_call() {
    let plan = Plan::new(&[(1_000, Answer::Ok), (1_000, Answer::Ok)]);
    assert!(matches!(
        timed_hedge(&plan).await,
        Err(CallError::TimedOut(_))
    ));
    assert_eq!(plan.start.elapsed(), Duration::from_millis(30));
    // Both runs were dropped with the call (in either order).
    let mut log = plan.log();
    log.sort();
    assert_eq!(
        log,
        [
            (1, "dropped", 30),
            (1, "started", 0),
            (2, "dropped", 30),
            (2, "started", 20)
        ]
    );
}

#[hedge(delay = 20ms, max_hedges = 1)]
#[timeout(30ms)]
async fn hedged_timeouts(plan: &Plan) -> Result<u32, CallError> {
    plan.run().await
}

#[tokio::test(start_paused = true)]
async fn hedge_outside_timeout_gives_each_run_its_own_limit() {
    // Run 1 times out at 30 ms (retryable); run 2 started at 20 and times out at 50.
    let plan = Plan::new(&[(1_000, Answer::Ok), (1_000, Answer::Ok)]);
    assert!(matches!(
        hedged_timeouts(&plan).await,
        Err(CallError::TimedOut(_))
    ));
    assert_eq!(plan.start.elapsed(), Duration::from_millis(50));
    assert_eq!(plan.runs(), 2);
}

// Error types that are not a `MarcusError`: decided as `#[retry]` decides.

static IO_RUNS: AtomicU32 = AtomicU32::new(0);

#[hedge(delay = 50ms)]
async fn io_lookup(key: &str) -> std::io::Result<String> {
    if IO_RUNS.fetch_add(1, Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        return Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "reset",
        ));
    }
    Ok(key.to_uppercase())
}

static TEXT_RUNS: AtomicU32 = AtomicU32::new(0);

#[hedge(delay = 50ms)]
async fn text_lookup() -> Result<u32, String> {
    let run = TEXT_RUNS.fetch_add(1, Ordering::SeqCst) + 1;
    if run == 1 {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Ok(run)
}

#[tokio::test(start_paused = true)]
async fn foreign_and_plain_error_types_are_hedged_too() {
    let start = Instant::now();
    // A connection reset is retryable: the next run starts at once.
    assert_eq!(io_lookup("k").await.unwrap(), "K");
    assert_eq!(start.elapsed(), Duration::from_millis(10));
    assert_eq!(text_lookup().await, Ok(2));
    assert_eq!(start.elapsed(), Duration::from_millis(60));
}

// More stacks: a fallback outside, a retry and an error context inside.

async fn cached(plan: &Plan) -> Result<u32, CallError> {
    let _ = plan;
    Ok(0)
}

#[fallback(cached)]
#[hedge(delay = 50ms, max_hedges = 1)]
async fn hedge_with_fallback(plan: &Plan) -> Result<u32, CallError> {
    plan.run().await
}

#[tokio::test(start_paused = true)]
async fn a_fallback_outside_hedge_answers_when_every_run_failed() {
    let plan = Plan::new(&[(10, Answer::Transient), (10, Answer::Transient)]);
    assert_eq!(hedge_with_fallback(&plan).await, Ok(0));
    assert_eq!(plan.runs(), 2);
    assert_eq!(plan.start.elapsed(), Duration::from_millis(20));
}

#[hedge(delay = 50ms, max_hedges = 1)]
#[retry(max_attempts = 2, backoff = fixed(5ms), jitter = none)]
async fn hedge_of_retries(plan: &Plan) -> Result<u32, CallError> {
    plan.run().await
}

#[tokio::test(start_paused = true)]
async fn a_retry_inside_hedge_retries_each_run() {
    // Run 1 (the first call's first attempt) fails at 10 and is retried at 15 as run 2,
    // which is slow; the hedge starts at 50 and its first attempt, run 3, answers at 51.
    let plan = Plan::new(&[
        (10, Answer::Transient),
        (1_000, Answer::Ok),
        (1, Answer::Ok),
    ]);
    assert_eq!(hedge_of_retries(&plan).await, Ok(3));
    assert_eq!(plan.start.elapsed(), Duration::from_millis(51));
}

#[derive(Debug, thiserror::Error, MarcusError)]
#[error("the replica failed")]
#[marcus(category = transient)]
struct Traced {
    #[context]
    ctx: resilience::ErrorContext,
}

#[hedge(delay = 50ms, max_hedges = 1)]
#[resilience::error_context("read_replica", agent_id = agent)]
async fn traced(agent: &str) -> Result<(), Traced> {
    tokio::time::sleep(Duration::from_millis(10)).await;
    Err(Traced {
        ctx: resilience::ErrorContext::new(),
    })
}

#[tokio::test(start_paused = true)]
async fn an_error_context_inside_hedge_fills_each_runs_error() {
    let error = traced("agent-7").await.unwrap_err();
    let ctx = error.context().expect("a context");
    assert_eq!(ctx.operation, "read_replica");
    assert_eq!(ctx.agent_id.as_deref(), Some("agent-7"));
}

#[hedge(delay = 0ms, max_hedges = 2)]
async fn raced(plan: &Plan) -> Result<u32, CallError> {
    plan.run().await
}

#[tokio::test(start_paused = true)]
async fn a_zero_delay_starts_every_run_at_once() {
    let plan = Plan::new(&[(30, Answer::Ok), (20, Answer::Ok), (10, Answer::Ok)]);
    assert_eq!(raced(&plan).await, Ok(3));
    assert_eq!(plan.start.elapsed(), Duration::from_millis(10));
    let starts: Vec<_> = plan
        .log()
        .into_iter()
        .filter(|(_, what, _)| *what == "started")
        .collect();
    assert_eq!(
        starts,
        [(1, "started", 0), (2, "started", 0), (3, "started", 0)]
    );
}

#[hedge(name = "hedge_attr.reconfigured", delay = 50ms)]
async fn reconfigured(plan: &Plan) -> Result<u32, CallError> {
    plan.run().await
}

#[tokio::test(start_paused = true)]
async fn a_configuration_given_after_first_use_applies_to_the_next_call() {
    let plan = Plan::new(&[(1_000, Answer::Ok), (1, Answer::Ok)]);
    assert_eq!(reconfigured(&plan).await, Ok(2));
    assert_eq!(plan.start.elapsed(), Duration::from_millis(51));
    registry()
        .configure_hedge(
            "hedge_attr.reconfigured",
            HedgeConfig {
                delay: Duration::from_millis(5),
                max_hedges: 1,
            },
        )
        .unwrap();
    let plan = Plan::new(&[(1_000, Answer::Ok), (1, Answer::Ok)]);
    assert_eq!(reconfigured(&plan).await, Ok(2));
    assert_eq!(plan.start.elapsed(), Duration::from_millis(6));
    // An invalid one is refused, naming the field, and the last good one stays.
    let refused = registry()
        .configure_hedge(
            "hedge_attr.reconfigured",
            HedgeConfig {
                max_hedges: 17,
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!((refused.field(), refused.value()), ("max_hedges", "17"));
    let hedge = registry().hedge("hedge_attr.reconfigured").unwrap();
    assert_eq!(hedge.config().delay, Duration::from_millis(5));
}
