//! `#[adaptive_limit]` as a user writes it: sync and async functions, the refusal as the
//! function's error, priorities, the registry, the health report, and a retry outside.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use resilience::registry::Registry;
use resilience::{adaptive_limit, retry, AdaptiveLimitConfig, MarcusError, Overloaded, Priority};

#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = integration)]
enum SearchError {
    #[error("backend down")]
    Down,
    #[error(transparent)]
    Overloaded(#[from] Overloaded),
}

static REG: LazyLock<Registry> = LazyLock::new(Registry::new);

#[adaptive_limit(name = "attr.sync", min_limit = 1, max_limit = 1, registry = REG)]
fn sync_call(hold: &std::sync::Barrier, release: &std::sync::Barrier) -> Result<u32, SearchError> {
    hold.wait();
    release.wait();
    Ok(1)
}

#[test]
fn a_sync_call_over_the_limit_is_refused_with_overloaded() {
    let hold = Arc::new(std::sync::Barrier::new(2));
    let release = Arc::new(std::sync::Barrier::new(2));
    let running = {
        let (hold, release) = (hold.clone(), release.clone());
        std::thread::spawn(move || sync_call(&hold, &release).unwrap())
    };
    hold.wait();
    let other = std::sync::Barrier::new(1);
    match sync_call(&other, &other) {
        Err(SearchError::Overloaded(o)) => {
            assert_eq!((o.name, o.limit), ("attr.sync", 1));
            assert_eq!(o.code(), "OVERLOADED_ERROR");
            assert!(o.retryable());
        }
        other => panic!("{other:?}"),
    }
    release.wait();
    assert_eq!(running.join().unwrap(), 1);
    let limiter = REG.adaptive_limit("attr.sync").expect("registered in REG");
    assert_eq!((limiter.in_flight(), limiter.snapshot().rejections), (0, 1));
}

#[adaptive_limit(name = "attr.async", min_limit = 1, max_limit = 1, max_wait = 1s, priority = priority, registry = REG)]
async fn async_call(
    priority: Priority,
    ms: u64,
    order: Arc<std::sync::Mutex<Vec<Priority>>>,
) -> Result<(), SearchError> {
    order.lock().unwrap().push(priority);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_freed_place_goes_to_the_higher_priority_and_the_lower_is_refused_first() {
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let first = tokio::spawn(async_call(Priority::Normal, 100, order.clone()));
    tokio::task::yield_now().await;
    let low = tokio::spawn(async_call(Priority::Low, 10, order.clone()));
    tokio::task::yield_now().await;
    // The waiting room holds as many calls as may run (one): the critical call takes
    // the low one's seat, and the low one is refused at once.
    let critical = tokio::spawn(async_call(Priority::Critical, 10, order.clone()));
    match low.await.unwrap() {
        Err(SearchError::Overloaded(o)) => assert_eq!(o.priority, Priority::Low),
        other => panic!("{other:?}"),
    }
    first.await.unwrap().unwrap();
    critical.await.unwrap().unwrap();
    assert_eq!(
        *order.lock().unwrap(),
        [Priority::Normal, Priority::Critical]
    );
}

#[adaptive_limit(name = "attr.failing", registry = REG)]
fn failing() -> Result<(), SearchError> {
    Err(SearchError::Down)
}

#[test]
fn an_error_passes_through_and_the_place_comes_back() {
    assert!(matches!(failing(), Err(SearchError::Down)));
    let l = REG.adaptive_limit("attr.failing").unwrap();
    assert_eq!(l.in_flight(), 0);
}

static RETRIED: AtomicU32 = AtomicU32::new(0);

#[retry(max_attempts = 3, backoff = none, registry = REG)]
#[adaptive_limit(name = "attr.retried", min_limit = 1, max_limit = 1, registry = REG)]
async fn retried() -> Result<u32, SearchError> {
    Ok(RETRIED.fetch_add(1, Ordering::SeqCst))
}

#[tokio::test(start_paused = true)]
async fn inside_a_retry_a_refusal_is_retried_after_its_retry_after() {
    let l = REG
        .adaptive_limit("attr.retried")
        .or_else(|| {
            REG.register_adaptive_limit(
                "attr.retried",
                AdaptiveLimitConfig {
                    min_limit: 1,
                    max_limit: 1,
                    initial_limit: 1,
                    ..Default::default()
                },
            )
            .ok()
        })
        .unwrap();
    let held = l.try_acquire().unwrap();
    let start = tokio::time::Instant::now();
    let call = tokio::spawn(retried());
    // The first attempt is refused; the retry waits the refusal's retry_after.
    tokio::time::sleep(Duration::from_micros(50)).await;
    drop(held);
    assert_eq!(call.await.unwrap().unwrap(), 0);
    assert!(
        start.elapsed() >= Duration::from_micros(100),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(l.snapshot().rejections, 1);
}

#[test]
fn the_health_report_lists_it_before_and_after_configure() {
    REG.configure_adaptive_limit(
        "attr.health",
        AdaptiveLimitConfig {
            initial_limit: 7,
            ..Default::default()
        },
    )
    .unwrap();
    let json = serde_json::to_value(REG.health()).unwrap();
    let limits = json["adaptive_limits"].as_array().unwrap();
    let entry = limits
        .iter()
        .find(|l| l["name"] == "attr.health")
        .expect("listed");
    assert_eq!(entry["limit"], 7);
    assert_eq!(entry["in_flight"], 0);
    assert_eq!(entry["min_rtt"], serde_json::Value::Null);
    assert_eq!(entry["rejections"], 0);
    let err = REG
        .configure_adaptive_limit(
            "attr.health",
            AdaptiveLimitConfig {
                max_limit: 0,
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!((err.field(), err.value()), ("max_limit", "0"));
}

static OWN_WORLD: LazyLock<Registry> = LazyLock::new(Registry::new);

#[adaptive_limit(name = "attr.own_monitor", registry = OWN_WORLD)]
fn failing_in_its_own_world() -> Result<u32, SearchError> {
    Err(SearchError::Down)
}

#[test]
fn an_error_is_recorded_in_the_monitor_of_the_sites_registry() {
    assert!(failing_in_its_own_world().is_err());
    // Before the limit became a `Pattern` on the generic `Site`, the error went to the
    // global monitor whatever `registry =` said.
    assert_eq!(OWN_WORLD.monitor().total_recorded(), 1);
    assert!(OWN_WORLD.adaptive_limit("attr.own_monitor").is_some());
    assert!(resilience::registry()
        .adaptive_limit("attr.own_monitor")
        .is_none());
}
