//! Waiting between attempts: on the thread for sync functions, on a timer for async ones.
//!
//! Async sleeps use tokio's timer when the `tokio` feature is on and a tokio runtime is
//! running (so paused, virtual time applies); otherwise — another executor, or the
//! feature off — one shared background thread keeps the deadlines and wakes the tasks.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Waits `d` without blocking the executor's thread.
///
/// On a tokio runtime (feature `tokio`, on by default) this is `tokio::time::sleep`, so
/// `#[tokio::test(start_paused = true)]` runs it in virtual time; elsewhere a shared timer
/// thread wakes the task. A zero delay returns at once.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// use std::time::Duration;
/// let start = tokio::time::Instant::now();
/// resilience::__private::sleep(Duration::from_secs(5)).await;
/// assert_eq!(start.elapsed(), Duration::from_secs(5)); // virtual time
/// # }
/// ```
pub fn sleep(d: Duration) -> Sleep {
    if d.is_zero() {
        return Sleep { timer: None };
    }
    #[cfg(feature = "tokio")]
    {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Sleep {
                timer: Some(Box::pin(tokio::time::sleep(d))),
            };
        }
    }
    Sleep {
        timer: Some(Box::pin(ThreadSleep::new(d))),
    }
}

/// The future of [`sleep`]: nothing for a zero delay, otherwise the timer, on the heap.
///
/// A retried async function keeps this across its await between attempts, so its size
/// adds to that function's future, which every caller stores and every spawn moves:
/// tokio's timer entry held inline made a retried future 280 bytes; boxed, with the
/// attempt's outcome not kept across the sleep either, it is 80 in the benchmarks. The
/// price is one allocation per delay, beside a wait of a millisecond or more.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let no_wait = resilience::__private::sleep(std::time::Duration::ZERO);
/// assert_eq!(std::mem::size_of_val(&no_wait), 2 * std::mem::size_of::<usize>());
/// no_wait.await;
/// # }
/// ```
#[must_use = "a sleep waits only when awaited"]
pub struct Sleep {
    timer: Option<Pin<Box<dyn Future<Output = ()> + Send + Sync>>>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.timer {
            Some(timer) => timer.as_mut().poll(cx),
            None => Poll::Ready(()),
        }
    }
}

impl core::fmt::Debug for Sleep {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sleep")
            .field("waiting", &self.timer.is_some())
            .finish()
    }
}

/// Blocks this thread for `d` (`std::thread::sleep`); a zero delay returns at once.
///
/// ```
/// let start = std::time::Instant::now();
/// resilience::__private::sleep_blocking(std::time::Duration::from_millis(1));
/// assert!(start.elapsed() >= std::time::Duration::from_millis(1));
/// ```
pub fn sleep_blocking(d: Duration) {
    if !d.is_zero() {
        std::thread::sleep(d);
    }
}

/// A future that completes at a deadline kept by the shared timer thread.
pub(crate) struct ThreadSleep {
    deadline: Option<Instant>,
    wait: Duration,
    shared: Option<Arc<Shared>>,
}

#[derive(Default)]
struct Shared {
    fired: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl ThreadSleep {
    pub(crate) fn new(wait: Duration) -> Self {
        ThreadSleep {
            deadline: Instant::now().checked_add(wait),
            wait,
            shared: None,
        }
    }
}

impl Future for ThreadSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(deadline) = self.deadline else {
            // Past the end of time: never wakes, like a sleep of centuries would not.
            return Poll::Pending;
        };
        if Instant::now() >= deadline {
            return Poll::Ready(());
        }
        if let Some(shared) = &self.shared {
            *lock(&shared.waker) = Some(cx.waker().clone());
            // Fired between the check above and storing the waker: don't miss it.
            return if shared.fired.load(Ordering::Acquire) {
                Poll::Ready(())
            } else {
                Poll::Pending
            };
        }
        let shared = Arc::new(Shared::default());
        *lock(&shared.waker) = Some(cx.waker().clone());
        match timer() {
            Some(timer) => {
                timer.schedule(deadline, Arc::clone(&shared));
                self.shared = Some(shared);
                Poll::Pending
            }
            None => {
                // No thread could be spawned: blocking is the only way left to wait.
                std::thread::sleep(self.wait);
                Poll::Ready(())
            }
        }
    }
}

impl Drop for ThreadSleep {
    fn drop(&mut self) {
        // Release the task's waker now rather than when the deadline passes.
        if let Some(shared) = &self.shared {
            lock(&shared.waker).take();
        }
    }
}

struct Entry {
    deadline: Instant,
    seq: u64,
    shared: Arc<Shared>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.deadline, self.seq) == (other.deadline, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.deadline, self.seq).cmp(&(other.deadline, other.seq))
    }
}

#[derive(Default)]
struct Queue {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

struct Timer {
    queue: Mutex<Queue>,
    changed: Condvar,
}

impl Timer {
    fn schedule(&self, deadline: Instant, shared: Arc<Shared>) {
        let mut queue = lock(&self.queue);
        queue.seq = queue.seq.wrapping_add(1);
        let seq = queue.seq;
        queue.heap.push(Reverse(Entry {
            deadline,
            seq,
            shared,
        }));
        drop(queue);
        self.changed.notify_one();
    }

    fn run(&self) {
        let mut queue = lock(&self.queue);
        loop {
            let now = Instant::now();
            let mut due = Vec::new();
            while queue.heap.peek().is_some_and(|e| e.0.deadline <= now) {
                if let Some(Reverse(entry)) = queue.heap.pop() {
                    due.push(entry.shared);
                }
            }
            if !due.is_empty() {
                // Wake outside the lock: a waker may run executor code that sleeps again.
                drop(queue);
                for shared in due {
                    shared.fired.store(true, Ordering::Release);
                    if let Some(waker) = lock(&shared.waker).take() {
                        waker.wake();
                    }
                }
                queue = lock(&self.queue);
                continue;
            }
            queue = match queue.heap.peek().map(|e| e.0.deadline) {
                Some(next) => {
                    let wait = next.saturating_duration_since(now);
                    self.changed
                        .wait_timeout(queue, wait)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => self
                    .changed
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner),
            };
        }
    }
}

/// The shared timer, started on first use; `None` if its thread could not be spawned.
fn timer() -> Option<&'static Timer> {
    static TIMER: OnceLock<Option<&'static Timer>> = OnceLock::new();
    *TIMER.get_or_init(|| {
        // Lives as long as the process, like its thread.
        let timer: &'static Timer = Box::leak(Box::new(Timer {
            queue: Mutex::new(Queue::default()),
            changed: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("resilience-timer".into())
            .spawn(move || timer.run())
            .ok()
            .map(|_| timer)
    })
}

/// The guarded data stays consistent across a panic (single assignments), so a poisoned
/// lock is used as is.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Polls `fut` to completion on this thread, parking between wake-ups.
    fn block_on<F: Future>(fut: F) -> F::Output {
        struct Unpark(std::thread::Thread);
        impl std::task::Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut fut = std::pin::pin!(fut);
        loop {
            if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::park();
        }
    }

    #[test]
    fn a_sleep_keeps_a_future_send_and_sync() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        send_sync(&sleep(Duration::from_millis(1)));
    }

    #[test]
    fn off_a_runtime_a_sleep_waits_on_the_timer_thread() {
        let start = Instant::now();
        block_on(sleep(Duration::from_millis(5)));
        assert!(start.elapsed() >= Duration::from_millis(5));
        // A zero delay holds no timer and is ready at once.
        assert!(sleep(Duration::ZERO).timer.is_none());
        block_on(sleep(Duration::ZERO));
    }

    #[test]
    fn the_timer_thread_wakes_sleepers_in_deadline_order() {
        let start = Instant::now();
        let handles: Vec<_> = [30u64, 10, 20]
            .into_iter()
            .map(|ms| {
                std::thread::spawn(move || {
                    block_on(ThreadSleep::new(Duration::from_millis(ms)));
                    start.elapsed()
                })
            })
            .collect();
        let waited: Vec<Duration> = handles
            .into_iter()
            .map(|h| h.join().expect("no panic"))
            .collect();
        for (ms, took) in [30u64, 10, 20].into_iter().zip(waited) {
            assert!(
                took >= Duration::from_millis(ms),
                "{ms} ms sleep woke after {took:?}"
            );
        }
    }

    #[test]
    fn an_async_sleep_outside_tokio_uses_the_timer_thread() {
        let start = Instant::now();
        block_on(sleep(Duration::from_millis(5)));
        assert!(start.elapsed() >= Duration::from_millis(5));
    }
}
