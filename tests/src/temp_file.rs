//! A file of a test's own in the temporary directory (a configuration to load or
//! watch), removed when dropped.

use std::path::PathBuf;

/// `resilience-test-<pid>-<name>.toml` in the temporary directory: the process id keeps
/// two test binaries apart, `name` two files of one.
pub struct TempFile(pub PathBuf);

impl TempFile {
    /// The file `name`, holding `text`.
    pub fn new(name: &str, text: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!(
            "resilience-test-{}-{name}.toml",
            std::process::id()
        ));
        std::fs::write(&path, text).unwrap();
        TempFile(path)
    }

    /// Replaces its text as editors save: written beside and renamed over, so a watcher
    /// never reads half a file.
    pub fn write(&self, text: &str) {
        let next = self.0.with_extension("next");
        std::fs::write(&next, text).unwrap();
        std::fs::rename(&next, &self.0).unwrap();
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Polls `done` every 5 ms until it holds, failing past 10 s (for a watcher's reload).
pub fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "not within 10 s: {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}
