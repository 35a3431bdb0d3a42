//! The cluster breaker: the hook the state machine calls on a transition, the pub/sub
//! listener, and the one task that publishes, applies and reconciles.
//!
//! The hot path is untouched: a call through a closed breaker never reaches this file.
//! Everything here runs on the transition (a channel send) or on the background task.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::{scripts, Shared, CHANNEL};
use crate::breaker::Breaker;
use crate::{BreakerState, Scope};

/// What the breaker task is told.
pub(super) enum Event {
    /// This instance's breaker changed state on its own.
    Local {
        name: &'static str,
        from: BreakerState,
        to: BreakerState,
        quorum: u32,
        /// The open period of this opening (grown after failed trials).
        recovery: Duration,
        longest: Duration,
    },
    /// A message from another instance: `open`/`close`, ms, origin, name.
    Remote(String),
}

thread_local! {
    /// Set while this thread applies a remote transition, so it is not published back.
    static APPLYING: Cell<bool> = const { Cell::new(false) };
}

/// Called by the state machine after a transition (cold). True when the cluster layer
/// took it (connected or not); false before `connect`.
pub(crate) fn breaker_transitioned(
    breaker: &Breaker,
    from: BreakerState,
    to: BreakerState,
) -> bool {
    let Some(shared) = super::shared() else {
        return false;
    };
    if APPLYING.with(Cell::get) {
        return true;
    }
    let config = breaker.config();
    if config.scope == Scope::Cluster {
        let _ = shared.events.send(Event::Local {
            name: breaker.name(),
            from,
            to,
            quorum: config.quorum,
            recovery: match to {
                BreakerState::Open => breaker.open_period(),
                _ => config.recovery_timeout,
            },
            longest: config.longest_open_period(),
        });
    }
    true
}

/// Applies `f` to the breaker without publishing what it does.
fn applying<T>(f: impl FnOnce() -> T) -> T {
    APPLYING.with(|a| a.set(true));
    let out = f();
    APPLYING.with(|a| a.set(false));
    out
}

fn key(name: &str, part: &str) -> String {
    scripts::breaker_key(name, part)
}

/// What this instance knows of one cluster-scoped breaker.
#[derive(Default)]
struct Tracked {
    /// This instance opened it on its own failures (its vote is kept alive).
    voted: bool,
    /// Its quorum and open period, as of the last transition.
    quorum: u32,
    recovery: Duration,
    /// The longest opening its configuration gives: one longer is not this crate's.
    longest: Duration,
    /// The cluster is open (an opening was published or seen).
    cluster_open: bool,
    /// A closing happened while Redis was down: publish it on reconnect.
    pending_close: bool,
    /// This instance holds the half-open lease until then.
    lease_until: Option<tokio::time::Instant>,
}

/// The breaker task: publishes local transitions, applies remote ones, takes the
/// half-open lease ahead of the deadline, and reconciles every heartbeat.
pub(super) async fn breaker_loop(shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<Event>) {
    let mut tracked: HashMap<&'static str, Tracked> = HashMap::new();
    let tick = Duration::from_millis(5);
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut reconcile = tokio::time::interval(shared.config.heartbeat);
    reconcile.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            event = rx.recv() => match event {
                Some(Event::Local { name, from, to, quorum, recovery, longest }) => {
                    let t = tracked.entry(name).or_default();
                    t.quorum = quorum;
                    t.recovery = recovery;
                    t.longest = longest;
                    local_transition(&shared, name, t, from, to).await;
                }
                Some(Event::Remote(message)) => remote(&shared, &mut tracked, &message),
                None => return,
            },
            _ = ticker.tick() => leases(&shared, &mut tracked).await,
            _ = reconcile.tick() => reconcile_all(&shared, &mut tracked).await,
            () = shared.reconnected.notified() => reconcile_all(&shared, &mut tracked).await,
        }
    }
}

async fn local_transition(
    shared: &Shared,
    name: &'static str,
    t: &mut Tracked,
    from: BreakerState,
    to: BreakerState,
) {
    if to != BreakerState::HalfOpen {
        // A trial ended (or the breaker moved on): the lease, if ours, is spent.
        t.lease_until = None;
    }
    match (from, to) {
        (BreakerState::HalfOpen, BreakerState::Open) if t.cluster_open => {
            // The cluster's trial failed: open again everywhere.
            t.voted = true;
            let mut inv = scripts::REOPEN.prepare_invoke();
            inv.key(key(name, "votes"))
                .key(key(name, "open"))
                .key(key(name, "trial"))
                .arg(&shared.instance)
                .arg(ms(shared.config.instance_ttl))
                .arg(ms(t.recovery))
                .arg(CHANNEL)
                .arg(name);
            let _ = shared.eval_if_up::<i64>(&key(name, "votes"), &inv).await;
        }
        (_, BreakerState::Open) => {
            t.voted = true;
            t.pending_close = false;
            let recovery = t.recovery;
            vote(shared, name, t, Some(recovery)).await;
        }
        (BreakerState::Open | BreakerState::HalfOpen, BreakerState::Closed) => {
            t.voted = false;
            t.cluster_open = false;
            t.pending_close = close(shared, name).await.is_none();
        }
        _ => {}
    }
}

/// Votes (or keeps the vote alive); with `open_for`, the vote may open the cluster for
/// that long once the quorum is reached. Marks the cluster open when it is.
async fn vote(shared: &Shared, name: &str, t: &mut Tracked, open_for: Option<Duration>) {
    let mut inv = scripts::VOTE.prepare_invoke();
    inv.key(key(name, "votes"))
        .key(key(name, "open"))
        .arg(&shared.instance)
        .arg(ms(shared.config.instance_ttl))
        .arg(t.quorum.max(1))
        .arg(ms(open_for.unwrap_or(t.recovery)))
        .arg(CHANNEL)
        .arg(name)
        .arg(if open_for.is_some() { "0" } else { "1" })
        .arg(ms(t.longest.max(t.recovery)));
    if let Some((_, state, repaired)) = shared
        .eval_if_up::<(i64, i64, i64)>(&key(name, "votes"), &inv)
        .await
    {
        if repaired != 0 {
            shared.corrupt_once(&key(name, "votes"), "not a sorted set of live votes");
        }
        if state != 0 {
            t.cluster_open = true;
        }
    }
}

async fn close(shared: &Shared, name: &str) -> Option<i64> {
    let mut inv = scripts::CLOSE.prepare_invoke();
    inv.key(key(name, "votes"))
        .key(key(name, "open"))
        .key(key(name, "trial"))
        .arg(&shared.instance)
        .arg(CHANNEL)
        .arg(name);
    shared.eval_if_up::<i64>(&key(name, "votes"), &inv).await
}

/// The registry's cluster-scoped breaker named `name`.
fn cluster_breaker(name: &str) -> Option<Arc<Breaker>> {
    crate::registry()
        .breaker(name)
        .filter(|b| b.config().scope == Scope::Cluster)
}

/// An operator's change of a breaker (the admin routes'), applied on every instance to
/// the breaker of that name, whatever its scope: published as `<kind> 0 <origin> <name>`
/// on the transitions' channel, beside `open` and `close`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Manual {
    ForceOpen,
    Reset,
    Disable,
}

impl Manual {
    fn as_str(self) -> &'static str {
        match self {
            Manual::ForceOpen => "force_open",
            Manual::Reset => "reset",
            Manual::Disable => "disable",
        }
    }

    fn parse(kind: &str) -> Option<Manual> {
        [Manual::ForceOpen, Manual::Reset, Manual::Disable]
            .into_iter()
            .find(|m| m.as_str() == kind)
    }

    fn apply(self, breaker: &Breaker) {
        match self {
            Manual::ForceOpen => breaker.force_open(),
            Manual::Reset => breaker.reset(),
            Manual::Disable => breaker.disable(),
        }
    }
}

/// Tells every other instance to apply `manual` to its breaker `name` (the caller has
/// applied it here). `true` once Redis took the message; `false` without a connection.
// The admin routes' (feature `admin`); the other instances apply it with or without it.
#[cfg_attr(not(feature = "admin"), allow(dead_code))]
pub(crate) async fn publish_manual(name: &str, manual: Manual) -> bool {
    let Some(shared) = super::shared() else {
        return false;
    };
    let message = format!("{} 0 {} {name}", manual.as_str(), shared.instance);
    shared
        .query_if_up::<i64>(CHANNEL, redis::cmd("PUBLISH").arg(CHANNEL).arg(message))
        .await
        .is_some()
}

/// Applies another instance's message.
fn remote(shared: &Shared, tracked: &mut HashMap<&'static str, Tracked>, message: &str) {
    let mut parts = message.splitn(4, ' ');
    let (Some(kind), Some(millis), Some(origin), Some(name)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    if origin == shared.instance {
        return;
    }
    if let Some(manual) = Manual::parse(kind) {
        if let Some(breaker) = crate::registry().breaker(name) {
            if let Some(t) = tracked.get_mut(breaker.name()) {
                t.lease_until = None;
            }
            applying(|| manual.apply(&breaker));
        }
        return;
    }
    let Some(breaker) = cluster_breaker(name) else {
        return;
    };
    let t = tracked.entry(breaker.name()).or_default();
    t.lease_until = None;
    match kind {
        "open" => {
            let config = breaker.config();
            t.quorum = config.quorum;
            t.longest = config.longest_open_period();
            t.cluster_open = true;
            // The opener's period, grown after failed trials: this one waits as long.
            let left = Duration::from_millis(millis.parse().unwrap_or(0)).min(t.longest);
            t.recovery = left;
            applying(|| breaker.apply_open(left));
        }
        "close" => {
            t.cluster_open = false;
            t.voted = false;
            t.pending_close = false;
            applying(|| breaker.apply_close());
        }
        _ => {}
    }
}

/// Ahead of an open breaker's deadline, takes the cluster's half-open lease, or holds
/// the breaker open while another instance holds it (or the cluster is still open).
async fn leases(shared: &Shared, tracked: &mut HashMap<&'static str, Tracked>) {
    if !shared.connected.load(Relaxed) {
        return;
    }
    let margin = Duration::from_millis(25);
    let now = tokio::time::Instant::now();
    for (&name, t) in tracked.iter_mut() {
        if t.lease_until.is_some_and(|until| now < until) {
            continue;
        }
        let Some(breaker) = cluster_breaker(name) else {
            continue;
        };
        let Some(left) = breaker.open_remaining() else {
            continue;
        };
        if left > margin {
            continue;
        }
        let mut inv = scripts::LEASE.prepare_invoke();
        inv.key(key(name, "trial"))
            .key(key(name, "open"))
            .arg(&shared.instance)
            .arg(ms(shared.config.trial_lease))
            .arg(ms(breaker.config().longest_open_period()));
        let Some((got, wait)) = shared
            .eval_if_up::<(i64, i64)>(&key(name, "trial"), &inv)
            .await
        else {
            if shared.connected.load(Relaxed) {
                // The key's problem, not the connection's: the next breaker's lease.
                continue;
            }
            return;
        };
        if got != 0 {
            t.lease_until = Some(now + Duration::from_millis(wait.max(1) as u64));
        } else if wait > 0 {
            // Someone else runs the trial (or the cluster is still open): wait for it.
            let hold = Duration::from_millis(wait as u64) + margin;
            let hold = hold.min(breaker.config().longest_open_period());
            applying(|| breaker.apply_open(hold));
        }
    }
}

/// Keeps this instance's votes alive, publishes a closing missed while down, and applies
/// the cluster's openings missed (a lost message, a restart).
async fn reconcile_all(shared: &Shared, tracked: &mut HashMap<&'static str, Tracked>) {
    if !shared.connected.load(Relaxed) {
        return;
    }
    // Every cluster-scoped breaker of the registry, found off the runtime's workers (a
    // registry of 100 000 breakers takes a while to list, and answers from Redis must not
    // wait behind it): those never transitioned yet are watched for missed openings.
    let found = tokio::task::spawn_blocking(|| {
        crate::registry()
            .breakers()
            .into_iter()
            .filter(|s| s.config.scope == Scope::Cluster)
            .map(|s| {
                let longest = s.config.longest_open_period();
                (s.name, s.config.quorum, s.config.recovery_timeout, longest)
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap_or_default();
    for (name, quorum, recovery, longest) in found {
        if let Some(breaker) = crate::registry().breaker(&name) {
            let t = tracked.entry(breaker.name()).or_default();
            t.quorum = quorum;
            t.longest = longest;
            // A period grown by failed trials stands until the next transition.
            if t.recovery.is_zero() || breaker.state() == BreakerState::Closed {
                t.recovery = recovery;
            }
        }
    }
    for (&name, t) in tracked.iter_mut() {
        let Some(breaker) = cluster_breaker(name) else {
            continue;
        };
        if t.pending_close {
            t.pending_close = close(shared, name).await.is_none();
            continue;
        }
        let state = breaker.state();
        match breaker.open_remaining() {
            // Still open: keep the vote alive. Only an opening the cluster has not seen
            // (made while Redis was down) may open it; once it has, the breaker may be
            // open only because it waits on another instance's trial, and reopening the
            // cluster then would refuse that trial everywhere.
            Some(left) if t.voted && !left.is_zero() => {
                let open_for = (!t.cluster_open).then_some(left);
                vote(shared, name, t, open_for).await;
            }
            // Due, or no longer open: let the vote expire.
            _ => t.voted = t.voted && state == BreakerState::Open,
        }
        let open_key = key(name, "open");
        let Some(left) = shared
            .query_if_up::<i64>(&open_key, redis::cmd("PTTL").arg(&open_key))
            .await
        else {
            if shared.connected.load(Relaxed) {
                continue;
            }
            return;
        };
        if left > ms(t.longest.max(t.recovery)) as i64 + 1000 {
            // Longer than any opening this crate sets (the longest open period): not ours.
            shared.corrupt_once(&open_key, "an opening longer than the longest open period");
            let _ = shared
                .query_if_up::<i64>(&open_key, redis::cmd("DEL").arg(&open_key))
                .await;
            continue;
        }
        if left > 0 && state == BreakerState::Closed {
            t.cluster_open = true;
            let left =
                Duration::from_millis(left as u64).min(t.longest.max(Duration::from_millis(1)));
            applying(|| breaker.apply_open(left));
        }
    }
}

/// Listens on the channel; subscribes anew with backoff when the connection ends,
/// when it stops answering a PING (a black hole: open, but silent), and when the
/// heartbeat saw Redis come back or move (a paused server's old connection may linger;
/// a failover moved the master). Messages missed meanwhile are caught up by the
/// reconciliation every heartbeat.
pub(super) async fn pubsub_loop(shared: Arc<Shared>) {
    let mut backoff = Duration::from_millis(20);
    let connect_timeout = shared.config.op_timeout.max(Duration::from_millis(200));
    loop {
        let subscribed = tokio::time::timeout(connect_timeout, async {
            let mut pubsub = shared.link.pubsub().await?;
            pubsub.subscribe(CHANNEL).await?;
            redis::RedisResult::Ok(pubsub)
        })
        .await;
        match subscribed {
            Ok(Ok(pubsub)) => {
                backoff = Duration::from_millis(20);
                let (mut sink, mut messages) = pubsub.split();
                let mut ping = tokio::time::interval(shared.config.heartbeat);
                ping.tick().await;
                loop {
                    tokio::select! {
                        message = messages.next() => match message {
                            Some(m) => {
                                if let Ok(text) = m.get_payload::<String>() {
                                    received(&shared, text);
                                }
                            }
                            None => break,
                        },
                        _ = ping.tick() => {
                            let pong = tokio::time::timeout(
                                connect_timeout,
                                sink.ping::<redis::Value>(),
                            )
                            .await;
                            if !matches!(pong, Ok(Ok(_))) {
                                break;
                            }
                        }
                        () = shared.reconnected.notified() => break,
                    }
                }
            }
            _ => {
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = shared.reconnected.notified() => {}
                }
                backoff = (backoff * 2).min(shared.config.heartbeat);
            }
        }
    }
}

/// A message on the channel: a request for this instance's whole report, or a
/// transition for the breaker task.
fn received(shared: &Arc<Shared>, text: String) {
    let mut parts = text.splitn(4, ' ');
    if parts.next() == Some("report") && parts.nth(2) == Some(shared.instance.as_str()) {
        tokio::spawn(super::heartbeat::answer_report(shared.clone()));
        return;
    }
    let _ = shared.events.send(Event::Remote(text));
}

fn ms(d: Duration) -> u64 {
    (d.as_millis() as u64).max(1)
}
