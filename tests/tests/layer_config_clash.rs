//! Issue 26, item 6: a layer's (or the reqwest middleware's) configuration for a name
//! that other code registered first with another configuration does not apply, and is
//! never ignored in silence: a WARN once per name naming the name and the fields that
//! differ, as two attribute sites configuring one breaker differently get
//! (`conflicting_site_configs.rs`), and `try_config` / the middleware's `breaker` refuse
//! it. The same configuration twice, and `configure` (which wins by rule), are no clash.
//! Features `tower` and `reqwest`; a binary of its own, so its callsites are first hit
//! under the tests' subscribers.

use std::time::Duration;

use reqwest_middleware::ClientBuilder;
use resilience::registry::Registry;
use resilience::reqwest::ResilienceMiddleware;
use resilience::tower::{AdaptiveLimitLayer, BulkheadLayer, CircuitBreakerLayer, RateLimitLayer};
use resilience::{
    adaptive_limit, circuit_breaker, registry, AdaptiveLimitConfig, BreakerConfig, BulkheadConfig,
    CircuitOpen, Overloaded, RateLimitConfig, RetryConfig,
};
use resilience_tests::capture::{Capture, Seen};
use tower::Layer;
use tracing::Level;

/// A registry of the test's own.
fn fresh() -> &'static Registry {
    Box::leak(Box::new(Registry::new()))
}

fn threshold(failure_threshold: u32) -> BreakerConfig {
    BreakerConfig {
        failure_threshold,
        ..Default::default()
    }
}

/// The WARNs of `target`.
fn warnings(capture: &Capture, target: &str) -> Vec<Seen> {
    (capture.of(target).into_iter())
        .filter(|e| e.level == Level::WARN)
        .collect()
}

#[derive(Debug)]
struct Down;

impl From<CircuitOpen> for Down {
    fn from(_: CircuitOpen) -> Self {
        Down
    }
}

impl From<Overloaded> for Down {
    fn from(_: Overloaded) -> Self {
        Down
    }
}

#[circuit_breaker(name = "clash.attribute", failure_threshold = 3)]
fn guarded() -> Result<(), Down> {
    Ok(())
}

#[circuit_breaker(name = "clash.hosts", key = host, failure_threshold = 3)]
fn by_host(host: &str) -> Result<(), Down> {
    let _ = host;
    Ok(())
}

#[adaptive_limit(name = "clash.adaptive", initial_limit = 5)]
fn limited() -> Result<(), Down> {
    Ok(())
}

#[test]
fn two_breaker_layers_configuring_one_name_differently_warn_once() {
    let reg = fresh();
    let capture = Capture::new();
    tracing::subscriber::with_default(capture.subscriber(), || {
        let three = CircuitBreakerLayer::new("clash.layers")
            .registry(reg)
            .config(threshold(3));
        let nine = CircuitBreakerLayer::new("clash.layers")
            .registry(reg)
            .config(threshold(9));
        let _first = three.layer(());
        let _second = nine.layer(());
        // Another service of the same layer, another layer still: no second WARN.
        let _third = nine.layer(());
        let _fourth = CircuitBreakerLayer::new("clash.layers")
            .registry(reg)
            .config(BreakerConfig {
                success_threshold: 4,
                ..threshold(9)
            })
            .layer(());
    });
    let warns = warnings(&capture, "resilience::tower");
    assert_eq!(warns.len(), 1, "{warns:#?}");
    let warn = &warns[0];
    assert_eq!(warn.field("name"), "clash.layers");
    assert_eq!(warn.field("layer"), "CircuitBreakerLayer");
    assert_eq!(warn.field("fields"), "failure_threshold");
    assert!(
        warn.field("kept").contains("failure_threshold: 3"),
        "{warn:?}"
    );
    assert!(
        warn.field("ignored").contains("failure_threshold: 9"),
        "{warn:?}"
    );
    let kept = reg.breaker("clash.layers").unwrap().config();
    assert_eq!(kept.failure_threshold, 3, "the first configuration stays");
}

#[test]
fn the_same_configuration_twice_or_none_is_no_clash() {
    let reg = fresh();
    let two = BulkheadConfig {
        max_concurrent: 2,
        ..Default::default()
    };
    let capture = Capture::new();
    tracing::subscriber::with_default(capture.subscriber(), || {
        let _first = BulkheadLayer::new("clash.same")
            .registry(reg)
            .config(two.clone())
            .layer(());
        let _again = BulkheadLayer::new("clash.same")
            .registry(reg)
            .config(two.clone())
            .layer(());
        // No configuration: the layer takes the name's.
        let _plain = BulkheadLayer::new("clash.same").registry(reg).layer(());
        assert!(BulkheadLayer::new("clash.same")
            .registry(reg)
            .try_config(two.clone())
            .is_ok());
    });
    assert_eq!(warnings(&capture, "resilience::tower"), []);
    assert_eq!(
        reg.bulkhead("clash.same").unwrap().config().max_concurrent,
        2
    );
}

#[test]
fn a_layer_configuring_an_attributes_breaker_differently_warns_or_is_refused() {
    guarded().unwrap();
    let capture = Capture::new();
    tracing::subscriber::with_default(capture.subscriber(), || {
        let _svc = CircuitBreakerLayer::new("clash.attribute")
            .config(threshold(9))
            .layer(());
    });
    let warns = warnings(&capture, "resilience::tower");
    assert_eq!(warns.len(), 1, "{warns:#?}");
    assert_eq!(warns[0].field("name"), "clash.attribute");
    assert_eq!(warns[0].field("fields"), "failure_threshold");

    let (_layer, error) = CircuitBreakerLayer::new("clash.attribute")
        .try_config(threshold(9))
        .unwrap_err();
    assert_eq!((error.field(), error.value()), ("failure_threshold", "9"));
    assert!(
        error.reason().contains("`failure_threshold` = 3"),
        "{error}"
    );
    assert!(error.reason().contains("clash.attribute"), "{error}");
    let kept = registry().breaker("clash.attribute").unwrap().config();
    assert_eq!(kept.failure_threshold, 3);
}

#[test]
fn a_keyed_layer_giving_only_max_keys_names_only_max_keys() {
    let reg = fresh();
    let limit = RateLimitConfig {
        limit: 3,
        per: Duration::from_secs(60),
        ..Default::default()
    };
    let capture = Capture::new();
    tracing::subscriber::with_default(capture.subscriber(), || {
        let _first = RateLimitLayer::new("clash.keyed")
            .registry(reg)
            .config(limit.clone())
            .key(|k: &u8| *k)
            .layer(());
        let _second = RateLimitLayer::new("clash.keyed")
            .registry(reg)
            .key(|k: &u8| *k)
            .max_keys(16)
            .layer(());
    });
    let warns = warnings(&capture, "resilience::tower");
    assert_eq!(warns.len(), 1, "{warns:#?}");
    assert_eq!(warns[0].field("layer"), "RateLimitLayer");
    assert_eq!(warns[0].field("fields"), "max_keys");
    assert_eq!(reg.rate_limit_config("clash.keyed").unwrap(), limit);
}

#[test]
fn a_configuration_the_registry_was_given_wins_without_a_clash() {
    let reg = fresh();
    let five = RateLimitConfig {
        limit: 5,
        ..Default::default()
    };
    reg.configure_rate_limit("clash.configured", five).unwrap();
    let capture = Capture::new();
    tracing::subscriber::with_default(capture.subscriber(), || {
        let _svc = RateLimitLayer::new("clash.configured")
            .registry(reg)
            .config(RateLimitConfig {
                limit: 7,
                ..Default::default()
            })
            .layer(());
    });
    assert_eq!(warnings(&capture, "resilience::tower"), []);
    assert_eq!(
        reg.rate_limiter("clash.configured").unwrap().config().limit,
        5
    );
}

#[test]
fn an_adaptive_limit_layer_keeps_the_attributes_configuration_and_says_so() {
    limited().unwrap();
    let capture = Capture::new();
    tracing::subscriber::with_default(capture.subscriber(), || {
        let layer = AdaptiveLimitLayer::new("clash.adaptive").config(AdaptiveLimitConfig {
            initial_limit: 8,
            ..Default::default()
        });
        assert_eq!(layer.limiter().config().initial_limit, 5);
        // The layer that registers a name first gives it its configuration.
        let own = AdaptiveLimitLayer::new("clash.adaptive_own").config(AdaptiveLimitConfig {
            initial_limit: 4,
            ..Default::default()
        });
        assert_eq!(own.limiter().limit(), 4);
    });
    let warns = warnings(&capture, "resilience::tower");
    assert_eq!(warns.len(), 1, "{warns:#?}");
    assert_eq!(warns[0].field("name"), "clash.adaptive");
    assert_eq!(warns[0].field("layer"), "AdaptiveLimitLayer");
    assert_eq!(warns[0].field("fields"), "initial_limit");

    let error = AdaptiveLimitLayer::new("clash.adaptive")
        .try_config(AdaptiveLimitConfig {
            initial_limit: 8,
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!((error.field(), error.value()), ("initial_limit", "8"));
}

#[test]
fn the_middleware_refuses_another_configuration_of_an_attributes_host_breakers() {
    by_host("a.example").unwrap();
    let error = ResilienceMiddleware::new()
        .name("clash.hosts")
        .breaker(threshold(9))
        .unwrap_err();
    assert_eq!((error.field(), error.value()), ("failure_threshold", "9"));
    assert!(ResilienceMiddleware::new()
        .name("clash.hosts")
        .breaker(threshold(3))
        .is_ok());
}

#[tokio::test]
async fn the_middleware_warns_once_when_the_clash_shows_at_its_first_request() {
    by_host("b.example").unwrap();
    // A port nothing listens on: the request fails to connect, after the host's breaker
    // was found.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let capture = Capture::new();
    let _guard = tracing::subscriber::set_default(capture.subscriber());
    // Named after its breaker configuration: checked against the default name then.
    let middleware = ResilienceMiddleware::new()
        .breaker(threshold(9))
        .unwrap()
        .name("clash.hosts")
        .retry(RetryConfig {
            max_attempts: 1,
            ..Default::default()
        })
        .unwrap();
    let client = ClientBuilder::new(reqwest::Client::new())
        .with(middleware)
        .build();
    for _ in 0..2 {
        let url = format!("http://127.0.0.1:{port}/");
        assert!(client.get(url).send().await.is_err());
    }
    let warns = warnings(&capture, "resilience::reqwest");
    assert_eq!(warns.len(), 1, "{warns:#?}");
    assert_eq!(warns[0].field("name"), "clash.hosts");
    assert_eq!(warns[0].field("fields"), "failure_threshold");
    let host = registry()
        .breaker_for("clash.hosts", &format!("127.0.0.1:{port}"))
        .unwrap();
    assert_eq!(host.config().failure_threshold, 3);
}
