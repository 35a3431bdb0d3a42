//! [`Watcher`]: reloads a configuration file when it changes.
//!
//! It polls: every interval it reads the file and compares a hash of its bytes with the
//! last one seen. Polling needs no dependency and no platform's notification API, sees
//! a file replaced by rename (as editors save) or rewritten in place alike, and cannot
//! miss a change that a coarse modification time would hide; a configuration file is
//! small (at most [`MAX_FILE_BYTES`](super::MAX_FILE_BYTES)), so reading it twice a
//! second costs nothing worth an event queue.
//!
//! A file that disappears (deleted or moved away) or cannot be read is a WARN and
//! [`Watcher::last_error`]; the last good configuration stays in force, and the file is
//! read again as soon as it is back.

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
        let first = super::file::read(&path)?;
        let text = String::from_utf8(first)
            .map_err(|_| LoadError::new(path.display().to_string(), "the file is not UTF-8"))?;
        let config = Config::from_text(&text, &path)?;
        config.apply()?;
        let state = Arc::new(State::default());
        state.reloads.store(1, Ordering::Relaxed);
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = {
            let watched = path.clone();
            let state = state.clone();
            std::thread::Builder::new()
                .name("resilience-config-watch".into())
                .spawn(move || {
                    Watch::new(&watched, &state, hash(text.as_bytes())).run(interval, &stopped)
                })
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

    /// What keeps the file's last change from applying, if anything: the refusal of an
    /// invalid change, or a file that is gone (deleted or moved away: said at the second
    /// check that misses it, so a file being replaced is not reported) or cannot be read.
    /// `None` again once a valid change is applied, or once the file is back as it was.
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

/// The watching thread's view: the file, the last content it saw and what became of it.
struct Watch<'a> {
    path: &'a Path,
    state: &'a State,
    /// The hash of the last content read.
    seen: u64,
    /// The refusal of that content, if it was refused.
    refused: Option<LoadError>,
    /// Why the file could not be read at the last check, if it could not.
    unreadable: Option<Unreadable>,
}

/// Why the file could not be read.
#[derive(Clone, PartialEq)]
enum Unreadable {
    /// Missing at one check: maybe being replaced (deleted, then written).
    Missing,
    /// Missing at two checks in a row: deleted or moved away (warned).
    Gone,
    /// Present but refused (not a regular file, too big, no permission; warned).
    Refused(String),
}

impl<'a> Watch<'a> {
    fn new(path: &'a Path, state: &'a State, seen: u64) -> Watch<'a> {
        Watch {
            path,
            state,
            seen,
            refused: None,
            unreadable: None,
        }
    }

    /// Until the channel closes, every `interval`: check the file.
    fn run(mut self, interval: Duration, stopped: &mpsc::Receiver<()>) {
        loop {
            match stopped.recv_timeout(interval) {
                Err(RecvTimeoutError::Timeout) => {}
                Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
            }
            self.check();
        }
    }

    fn check(&mut self) {
        let bytes = match std::fs::metadata(self.path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return self.missing(),
            _ => super::file::read(self.path),
        };
        let bytes = match bytes {
            Ok(bytes) => bytes,
            Err(error) => return self.refused_read(error),
        };
        if let Some(was) = self.unreadable.take() {
            self.back(&was);
        }
        let now = hash(&bytes);
        if now == self.seen {
            return;
        }
        self.seen = now;
        let result = match String::from_utf8(bytes) {
            Ok(text) => Config::from_text(&text, self.path).and_then(|c| c.apply()),
            Err(_) => Err(LoadError::new(
                self.path.display().to_string(),
                "the file is not UTF-8",
            )),
        };
        let path = self.path.display();
        match result {
            Ok(()) => {
                self.refused = None;
                *lock(&self.state.last_error) = None;
                self.state.reloads.fetch_add(1, Ordering::AcqRel);
                tracing::info!(target: "resilience::config", path = %path, "configuration reloaded");
            }
            Err(error) => {
                tracing::warn!(
                    target: "resilience::config",
                    path = %path,
                    %error,
                    "invalid configuration change refused; the last good configuration stays"
                );
                self.refused = Some(error.clone());
                *lock(&self.state.last_error) = Some(error);
            }
        }
    }

    /// The file is not there. Once may be a file being replaced (deleted, then written
    /// again); at the next check too, it is gone: a WARN, and `last_error` says so.
    fn missing(&mut self) {
        match self.unreadable {
            None | Some(Unreadable::Refused(_)) => self.unreadable = Some(Unreadable::Missing),
            Some(Unreadable::Missing) => {
                let error = LoadError::new(
                    self.path.display().to_string(),
                    "the watched file is gone (deleted or moved away); the last good configuration stays, and the file is read again when it is back",
                );
                tracing::warn!(
                    target: "resilience::config",
                    path = %self.path.display(),
                    "the watched configuration file is gone; the last good configuration stays until it is back"
                );
                *lock(&self.state.last_error) = Some(error);
                self.unreadable = Some(Unreadable::Gone);
            }
            Some(Unreadable::Gone) => {}
        }
    }

    /// The file is there but cannot be read as a configuration: a WARN, once per reason.
    fn refused_read(&mut self, error: LoadError) {
        let reason = Unreadable::Refused(error.message().to_owned());
        if self.unreadable.as_ref() == Some(&reason) {
            return;
        }
        tracing::warn!(
            target: "resilience::config",
            path = %self.path.display(),
            %error,
            "the watched configuration file cannot be read; the last good configuration stays"
        );
        *lock(&self.state.last_error) = Some(error);
        self.unreadable = Some(reason);
    }

    /// Readable again after `was`: the error of the file's absence goes; if its content
    /// is what it was, so does the outcome of that content (nothing to apply again).
    fn back(&mut self, was: &Unreadable) {
        if *was != Unreadable::Missing {
            tracing::info!(
                target: "resilience::config",
                path = %self.path.display(),
                "the watched configuration file is readable again"
            );
        }
        *lock(&self.state.last_error) = self.refused.clone();
    }
}
