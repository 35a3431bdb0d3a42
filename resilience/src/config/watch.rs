//! [`Watcher`]: reloads a configuration file when it changes.
//!
//! It polls: every interval it reads the file and compares a hash of its bytes with the
//! last one seen. Polling needs no dependency and no platform's notification API, sees
//! a file replaced by rename (as editors save) or rewritten in place alike, and cannot
//! miss a change that a coarse modification time would hide; a configuration file is
//! small, so reading it twice a second costs nothing worth an event queue.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::{lock, Config, LoadError};

/// How often [`watch`](super::watch) reads the file.
pub(crate) const DEFAULT_INTERVAL: Duration = Duration::from_millis(500);

/// A running [`watch`](super::watch): dropping it stops and joins its thread.
///
/// ```
/// use std::time::Duration;
/// let path = std::env::temp_dir().join(format!("resilience-doc-watcher-{}.toml", std::process::id()));
/// std::fs::write(&path, "[retry.doc-watcher]\nmax_attempts = 2\n")?;
/// let watcher = resilience::config::watch_every(&path, Duration::from_millis(10))?;
/// assert_eq!(watcher.path(), path.as_path());
/// assert!(watcher.last_error().is_none());
/// drop(watcher);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Watcher {
    path: PathBuf,
    state: Arc<State>,
    /// Dropped first: the thread's `recv_timeout` then sees the channel closed.
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct State {
    reloads: AtomicU64,
    last_error: Mutex<Option<LoadError>>,
}

impl Watcher {
    pub(crate) fn start(path: &Path, interval: Duration) -> Result<Watcher, LoadError> {
        let interval = interval.max(Duration::from_millis(1));
        let path = path.to_path_buf();
        let first = std::fs::read(&path).map_err(|e| {
            LoadError::new(
                path.display().to_string(),
                format!("cannot read the file: {e}"),
            )
        })?;
        super::load(&path)?;
        let state = Arc::new(State::default());
        state.reloads.store(1, Ordering::Relaxed);
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = {
            let watched = path.clone();
            let state = state.clone();
            std::thread::Builder::new()
                .name("resilience-config-watch".into())
                .spawn(move || run(&watched, interval, hash(&first), &state, &stopped))
                .map_err(|e| {
                    LoadError::new(
                        path.display().to_string(),
                        format!("cannot start the watching thread: {e}"),
                    )
                })?
        };
        Ok(Watcher {
            path,
            state,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The file it watches.
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("resilience-doc-wpath-{}.toml", std::process::id()));
    /// # std::fs::write(&path, "")?;
    /// let watcher = resilience::config::watch(&path)?;
    /// assert!(watcher.path().ends_with(path.file_name().unwrap()));
    /// # drop(watcher); std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many times a configuration was applied: 1 after the first load, one more
    /// for every valid change.
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("resilience-doc-wreload-{}.toml", std::process::id()));
    /// # std::fs::write(&path, "")?;
    /// let watcher = resilience::config::watch(&path)?;
    /// assert_eq!(watcher.reloads(), 1);
    /// # drop(watcher); std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reloads(&self) -> u64 {
        self.state.reloads.load(Ordering::Acquire)
    }

    /// The refusal of the last change, if the last change was refused (`None` again once
    /// a valid change is applied).
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("resilience-doc-werr-{}.toml", std::process::id()));
    /// # std::fs::write(&path, "")?;
    /// let watcher = resilience::config::watch(&path)?;
    /// assert_eq!(watcher.last_error(), None);
    /// # drop(watcher); std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn last_error(&self) -> Option<LoadError> {
        lock(&self.state.last_error).clone()
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            // It wakes at once (the channel closed); a panic in it has been reported.
            let _ = thread.join();
        }
    }
}

fn hash(bytes: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

/// The watching loop: until the channel closes, every `interval`, reload on a change.
fn run(
    path: &Path,
    interval: Duration,
    mut seen: u64,
    state: &State,
    stopped: &mpsc::Receiver<()>,
) {
    loop {
        match stopped.recv_timeout(interval) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        // A file being replaced may be missing for an instant: the next tick sees it.
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        let now = hash(&bytes);
        if now == seen {
            continue;
        }
        seen = now;
        let result = match String::from_utf8(bytes) {
            Ok(_) => Config::from_file(path).and_then(|c| c.apply()),
            Err(_) => Err(LoadError::new(
                path.display().to_string(),
                "the file is not UTF-8",
            )),
        };
        match result {
            Ok(()) => {
                *lock(&state.last_error) = None;
                state.reloads.fetch_add(1, Ordering::AcqRel);
                tracing::info!(target: "resilience::config", path = %path.display(), "configuration reloaded");
            }
            Err(error) => {
                tracing::warn!(
                    target: "resilience::config",
                    path = %path.display(),
                    %error,
                    "invalid configuration change refused; the last good configuration stays"
                );
                *lock(&state.last_error) = Some(error);
            }
        }
    }
}
