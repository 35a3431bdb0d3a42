//! The heartbeat: every `heartbeat`, this instance says it is alive and writes a
//! bounded summary of its health (not the whole report: a registry of 100 000 keyed
//! breakers would make it tens of megabytes); the whole report is read on demand
//! ([`instance_report`]). While disconnected, the same task retries with backoff and
//! (re)makes the connection: after an outage, at start under `start_disconnected`, and
//! after a Sentinel failover.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::{scripts, ClusterError, Shared, CHANNEL, CLUSTER};
use crate::BreakerState;

pub(super) const INSTANCES: &str = "{rs}:instances";
pub(super) const HEALTH: &str = "{rs}:health";

/// At most this many instances named in a summary's `"attention"`.
pub(super) const ATTENTION_CAP: usize = 32;
/// A name or key in the summary is cut to this many characters.
const TEXT_CAP: usize = 100;

/// After this many heartbeats in a row without an answer, the connection is made anew
/// (a connection that stays open while answers stop would otherwise be kept forever).
const FRESH_AFTER: u32 = 3;

impl Shared {
    /// One heartbeat; true when Redis answered.
    pub(super) async fn heartbeat_once(&self) -> bool {
        // Off the runtime's workers, like the report: a large registry takes a while to
        // summarise, and answers from Redis must not wait behind it.
        let summary = tokio::task::spawn_blocking(|| summary().to_string())
            .await
            .unwrap_or_default();
        let ttl = self.config.instance_ttl.as_millis() as u64;
        let mut inv = scripts::HEARTBEAT.prepare_invoke();
        inv.key(INSTANCES)
            .key(HEALTH)
            .arg(&self.instance)
            .arg(ttl)
            .arg(summary);
        match self.eval::<u64>(INSTANCES, &inv).await {
            Ok(live) => {
                self.live.store(live, Relaxed);
                if !self.connected.swap(true, Relaxed) {
                    tracing::info!(target: "resilience::cluster", instance = %self.instance, redis = %self.link.shown(), "the cluster's Redis answers: reconciling");
                    self.reconnected.notify_waiters();
                }
                true
            }
            Err(_) => false,
        }
    }

    /// Makes the connection anew, bounded like `connect`; true when it answers.
    async fn reestablish(&self) -> bool {
        let bound = self.config.op_timeout.max(Duration::from_millis(500));
        matches!(
            tokio::time::timeout(bound, self.link.establish()).await,
            Ok(Ok(()))
        )
    }
}

/// Heartbeats every `heartbeat` while connected; while not, retries with backoff (from
/// `heartbeat / 4` doubling to `heartbeat`), making the connection anew when there is
/// none and after [`FRESH_AFTER`] silent beats. With Sentinel, every retry (each quarter
/// heartbeat) asks the sentinels where the master is, so a failover is followed within
/// about a quarter heartbeat of the sentinels naming the new master; while connected,
/// each heartbeat asks too (a failover that left the old master reachable).
pub(super) async fn heartbeat_loop(shared: Arc<Shared>) {
    let every = shared.config.heartbeat;
    let mut backoff = every / 4;
    let mut silent = 0u32;
    loop {
        let connected = shared.connected.load(Relaxed);
        let moved = connected && shared.link.master_moved().await;
        if moved {
            shared.mark_down("the sentinels name a new master");
        }
        if moved
            || !shared.link.has_conn()
            || (!connected && (silent >= FRESH_AFTER || shared.link.master_addr().is_some()))
        {
            shared.reestablish().await;
        }
        let up = shared.heartbeat_once().await;
        silent = if up { 0 } else { silent + 1 };
        let wait = if up {
            backoff = every / 4;
            every
        } else if shared.link.master_addr().is_some() {
            // Sentinel: a failover is followed within a quarter heartbeat of the
            // sentinels naming the new master (a question to a sentinel each time).
            every / 4
        } else {
            let wait = backoff;
            backoff = (backoff * 2).min(every);
            wait
        };
        tokio::time::sleep(wait).await;
    }
}

/// The summary a heartbeat carries: counts per pattern and state, the cluster status,
/// and at most [`ATTENTION_CAP`] instances that are open, full or exhausted, breakers
/// first. A few kilobytes whatever the number of keys.
///
/// Built from `registry().health()` on a blocking thread for the heartbeat (never on a
/// caller's path, nor on the runtime's workers).
pub(super) fn summary() -> Value {
    let health = crate::registry().health();
    let mut attention: Vec<Value> = Vec::new();
    let mut total = 0usize;
    let mut note = |pattern: &str, name: &str, key: Option<&str>, state: &str| {
        total += 1;
        if attention.len() < ATTENTION_CAP {
            attention.push(json!({
                "pattern": pattern,
                "name": cut(name),
                "key": key.map(cut),
                "state": state,
            }));
        }
    };
    for b in &health.breakers {
        if !matches!(b.state, BreakerState::Closed | BreakerState::Disabled) {
            note("breaker", &b.name, b.key.as_deref(), b.state.as_str());
        }
    }
    let mut full = 0;
    for b in &health.bulkheads {
        if b.in_flight >= b.config.max_concurrent {
            full += 1;
            note("bulkhead", &b.name, b.key.as_deref(), "full");
        }
    }
    let mut exhausted = 0;
    for r in &health.rate_limiters {
        if r.available == 0 {
            exhausted += 1;
            note("rate_limit", &r.name, r.key.as_deref(), "exhausted");
        }
    }
    let mut empty = 0;
    for b in &health.retry_budgets {
        if b.available < 1.0 {
            empty += 1;
            note(
                "retry_budget",
                b.name.as_deref().unwrap_or(""),
                None,
                "empty",
            );
        }
    }
    json!({
        "summary": true,
        "cluster": health.cluster,
        "breakers": {
            "total": health.total,
            "closed": health.closed,
            "open": health.open,
            "half_open": health.half_open,
            "forced_open": health.forced_open,
            "disabled": health.disabled,
        },
        "bulkheads": { "total": health.bulkheads.len(), "full": full },
        "rate_limiters": { "total": health.rate_limiters.len(), "exhausted": exhausted },
        "retry_budgets": { "total": health.retry_budgets.len(), "empty": empty },
        "hedges": { "total": health.hedges.len() },
        "attention": attention,
        "attention_total": total,
    })
}

fn cut(text: &str) -> String {
    text.chars().take(TEXT_CAP).collect()
}

/// The key an instance writes its whole report to, when asked.
fn report_key(instance: &str) -> String {
    format!("{{rs}}:report:{instance}")
}

/// How long [`instance_report`] waits for the instance to answer.
const REPORT_WAIT: Duration = Duration::from_secs(5);

/// One live instance's whole `registry().health()` (every breaker, bulkhead, limiter,
/// budget and hedge), read on demand: the instance is asked over pub/sub and writes it
/// to Redis for a few seconds, on a connection of its own. This instance's own is read
/// locally. An instance that does not answer within 5 s is an `Err`.
///
/// ```no_run
/// # async fn run() -> Result<(), resilience::cluster::ClusterError> {
/// for instance in resilience::cluster::health().await? {
///     let whole = resilience::cluster::instance_report(&instance.instance).await?;
///     println!("{}: {} breakers", instance.instance, whole["breakers"].as_array().map_or(0, Vec::len));
/// }
/// # Ok(()) }
/// ```
pub async fn instance_report(instance: &str) -> Result<Value, ClusterError> {
    let shared = CLUSTER.get().ok_or(ClusterError::NotConnected)?;
    if instance == shared.instance {
        return serde_json::to_value(crate::registry().health())
            .map_err(|e| ClusterError::Redis(e.to_string()));
    }
    let key = report_key(instance);
    let bound = super::link::BULK_TIMEOUT;
    let conn = tokio::time::timeout(bound, shared.link.bulk())
        .await
        .map_err(|_| ClusterError::Redis(format!("no connection within {bound:?}")))?
        .map_err(|e| ClusterError::Redis(shared.link.scrub(&e.to_string())))?;
    let run = |cmd: redis::Cmd| {
        let mut conn = conn.clone();
        async move {
            tokio::time::timeout(bound, cmd.query_async::<Option<String>>(&mut conn))
                .await
                .map_err(|_| ClusterError::Redis(format!("no answer within {bound:?}")))?
                .map_err(|e| ClusterError::Redis(shared.link.scrub(&e.to_string())))
        }
    };
    run(redis::cmd("DEL").arg(&key).to_owned()).await?;
    run(redis::cmd("PUBLISH")
        .arg(CHANNEL)
        .arg(format!("report 0 {} {instance}", shared.instance))
        .to_owned())
    .await?;
    let deadline = tokio::time::Instant::now() + REPORT_WAIT;
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if let Some(text) = run(redis::cmd("GET").arg(&key).to_owned()).await? {
            return serde_json::from_str(&text).map_err(|e| ClusterError::Redis(e.to_string()));
        }
    }
    Err(ClusterError::Redis(format!(
        "instance `{instance}` did not answer within {REPORT_WAIT:?}"
    )))
}

/// Asked for this instance's whole report: writes it for 10 s, on a connection of its
/// own, bounded (a failure here is no disconnection: the asker times out).
pub(super) async fn answer_report(shared: Arc<Shared>) {
    let bound = super::link::BULK_TIMEOUT;
    let Ok(Ok(mut conn)) = tokio::time::timeout(bound, shared.link.bulk()).await else {
        return;
    };
    // Off the runtime's workers: a large registry takes a while to write out, and the
    // heartbeat and the callers' admissions must not wait behind it.
    let Ok(text) = tokio::task::spawn_blocking(|| {
        serde_json::to_string(&crate::registry().health()).unwrap_or_default()
    })
    .await
    else {
        return;
    };
    let set = redis::cmd("SET")
        .arg(report_key(&shared.instance))
        .arg(text)
        .arg("PX")
        .arg(10_000)
        .to_owned();
    let _ = tokio::time::timeout(bound, set.query_async::<()>(&mut conn)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_stays_small_whatever_the_keys() {
        let registry = crate::registry();
        for i in 0..200 {
            let b = registry
                .register(
                    &format!("unit.summary.{i:03}"),
                    crate::BreakerConfig::default(),
                )
                .unwrap();
            if i % 2 == 0 {
                b.force_open();
            }
        }
        let s = summary();
        assert!(s["breakers"]["total"].as_u64().unwrap() >= 200);
        assert!(s["breakers"]["forced_open"].as_u64().unwrap() >= 100);
        assert_eq!(s["attention"].as_array().unwrap().len(), ATTENTION_CAP);
        assert!(s["attention_total"].as_u64().unwrap() >= 100);
        assert!(s.to_string().len() < 8 * 1024, "{}", s.to_string().len());
    }
}
