//! The cluster side of a `scope = cluster` retry budget: one background task that keeps
//! every such budget's lease topped up from its bucket in Redis (`{rb:NAME}`) and
//! carries the deposits of successful calls there. A retry never waits on this task: it
//! takes from the lease or is refused (see `RetryBudget`).

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{scripts, Shared};
use crate::retry::budget_lease::{self, Request};

/// How often every cluster budget is looked at even when no retry asked: deposits are
/// carried and low leases topped up at least this often.
const TICK: Duration = Duration::from_millis(100);

/// After Redis gave fewer tokens than asked (its bucket is empty), no top-up is asked
/// for that budget until this long has passed (at the next tick, then): refused retries
/// do not turn into a round trip each.
const EMPTY_BACKOFF: Duration = Duration::from_millis(20);

/// Runs for the life of the process, on the runtime `connect` ran on.
pub(super) async fn budget_loop(shared: Arc<Shared>) {
    budget_lease::TASK_STARTED.store(true, Relaxed);
    let mut empty_since: HashMap<String, Instant> = HashMap::new();
    loop {
        let budgets = crate::registry().cluster_budgets();
        let up = shared.connected.load(Relaxed);
        for budget in &budgets {
            let asks = empty_since
                .get(budget.name().unwrap_or_default())
                .is_none_or(|at| at.elapsed() >= EMPTY_BACKOFF);
            if !up {
                // Nothing waits on a Redis known to be down: the local share decides.
                budget.lease_failed(0);
                continue;
            }
            let Some(request) = budget.lease_request(asks) else {
                continue;
            };
            match take(&shared, &request).await {
                Some(taken) => {
                    budget.lease_granted(taken);
                    let name = budget.name().unwrap_or_default();
                    if taken < request.want {
                        empty_since.insert(name.to_owned(), Instant::now());
                    } else {
                        empty_since.remove(name);
                    }
                }
                None => budget.lease_failed(request.deposit),
            }
        }
        tokio::select! {
            () = budget_lease::WAKE.notified() => {}
            () = shared.reconnected.notified() => {}
            () = tokio::time::sleep(TICK) => {}
        }
    }
}

/// One script: refill, deposit, take up to `want`; `None` when Redis did not answer
/// within `op_timeout` (or is known down).
async fn take(shared: &Shared, request: &Request) -> Option<u64> {
    let mut inv = scripts::BUDGET.prepare_invoke();
    inv.key(&request.key)
        .arg(request.capacity)
        .arg(request.refill)
        .arg(request.want)
        .arg(request.deposit);
    let taken = shared.eval_if_up::<(u64, i64)>(&request.key, &inv).await?;
    if taken.1 != 0 {
        shared.corrupt_once(&request.key, "not a bucket of tokens");
    }
    Some(taken.0)
}
