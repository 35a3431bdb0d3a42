//! The file as read: a regular file of at most [`MAX_FILE_BYTES`], refused at once
//! otherwise (so `/dev/zero`, a FIFO or a directory never hangs a load), and the index
//! of its lines that errors are placed with.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::LoadError;

/// The largest configuration file [`load`](super::load) and [`watch`](super::watch)
/// read: 16 MiB. A bigger one is refused before it is read, with an `Err` saying so.
///
/// ```
/// assert_eq!(resilience::config::MAX_FILE_BYTES, 16 * 1024 * 1024);
/// ```
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The bytes of `path`: a regular file (symbolic links followed) of at most
/// [`MAX_FILE_BYTES`]. Anything else is refused without waiting: a FIFO is opened
/// without blocking, a device or directory is refused by its type, and a file that grows
/// past the cap while it is read is refused at the cap.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, LoadError> {
    let refuse = |message: String| LoadError::new(path.display().to_string(), message);
    // The type first, from the path alone: opening a FIFO for reading would wait for a
    // writer on platforms where it cannot be opened without blocking.
    let meta = std::fs::metadata(path).map_err(|e| refuse(format!("cannot read the file: {e}")))?;
    check(&meta).map_err(refuse)?;
    let file = open(path).map_err(|e| refuse(format!("cannot read the file: {e}")))?;
    // Again on what was opened: the path may have been replaced in between.
    let meta = file
        .metadata()
        .map_err(|e| refuse(format!("cannot read the file: {e}")))?;
    check(&meta).map_err(refuse)?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| refuse(format!("cannot read the file: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(refuse(too_big()));
    }
    Ok(bytes)
}

/// [`read`], as UTF-8 text.
pub(crate) fn read_text(path: &Path) -> Result<String, LoadError> {
    String::from_utf8(read(path)?)
        .map_err(|_| LoadError::new(path.display().to_string(), "the file is not UTF-8"))
}

fn check(meta: &std::fs::Metadata) -> Result<(), String> {
    let kind = meta.file_type();
    if kind.is_dir() {
        return Err("is a directory, not a configuration file".into());
    }
    if !kind.is_file() {
        return Err(
            "is not a regular file (a device, a FIFO or a socket): a configuration is read from a file"
                .into(),
        );
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_big());
    }
    Ok(())
}

fn too_big() -> String {
    format!(
        "the file is larger than {} MiB (`config::MAX_FILE_BYTES`); a configuration file is refused past it",
        MAX_FILE_BYTES / (1024 * 1024)
    )
}

/// Opens for reading; on Linux without blocking, so a FIFO put in place of the file
/// between the two checks cannot hang the open (regular files ignore the flag).
fn open(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// Where each line of a text starts, found in one pass, so the line of any byte is a
/// binary search: placing every key of a file costs `O(n + k log n)`, not `O(n × k)`.
pub(crate) struct Lines {
    /// The offset just after each `\n`.
    starts: Vec<usize>,
    len: usize,
}

impl Lines {
    pub(crate) fn new(text: &str) -> Lines {
        #[cfg(test)]
        tests::count_work(text.len());
        let starts = text
            .bytes()
            .enumerate()
            .filter(|&(_, b)| b == b'\n')
            .map(|(i, _)| i + 1)
            .collect();
        Lines {
            starts,
            len: text.len(),
        }
    }

    /// The 1-based line of byte `pos` (the last line past the end).
    pub(crate) fn line_of(&self, pos: usize) -> usize {
        let pos = pos.min(self.len);
        #[cfg(test)]
        tests::count_work(usize::BITS as usize - self.starts.len().leading_zeros() as usize);
        // Newlines before `pos`: those whose next line starts at or before it.
        self.starts.partition_point(|&start| start <= pos) + 1
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::cell::Cell;

    use super::*;

    thread_local! {
        /// Bytes and search steps spent placing keys on their lines, on this thread.
        static WORK: Cell<usize> = const { Cell::new(0) };
    }

    pub(super) fn count_work(n: usize) {
        WORK.with(|w| w.set(w.get() + n));
    }

    fn work_of(tables: usize) -> (usize, usize) {
        let mut text = String::new();
        for n in 0..tables {
            text.push_str(&format!(
                "[breaker.\"work.{n}\"]\nfailure_threshold = 3\nrecovery_timeout = \"30s\"\n\n"
            ));
        }
        WORK.with(|w| w.set(0));
        let config = crate::config::Config::parse(&text).unwrap();
        assert_eq!(config.len(), tables);
        (text.len(), WORK.with(Cell::get))
    }

    #[test]
    fn finding_the_lines_of_every_key_reads_each_byte_once() {
        let (small_len, small) = work_of(1_000);
        let (big_len, big) = work_of(16_000);
        assert_eq!(big_len / small_len, 16);
        // Linear up to the logarithm of the binary search: 16 times the text is at most
        // 20 times the work (it was 256 times: every key counted the lines from the
        // start), and the work is a few passes over the text, not thousands.
        assert!(big <= small * 20, "{small} then {big}");
        assert!(big <= big_len * 3, "{big} for {big_len} bytes");
    }

    #[test]
    fn lines_are_counted_from_one_and_past_the_end_is_the_last_line() {
        let lines = Lines::new("a\nbc\n\nd");
        let got: Vec<usize> = (0..9).map(|pos| lines.line_of(pos)).collect();
        assert_eq!(got, [1, 1, 2, 2, 2, 3, 4, 4, 4]);
        assert_eq!(Lines::new("").line_of(0), 1);
    }

    #[test]
    fn what_is_not_a_regular_file_is_refused_at_once() {
        let started = std::time::Instant::now();
        let dir = std::env::temp_dir();
        let err = read(&dir).unwrap_err();
        assert!(err.message().contains("is a directory"), "{err}");
        #[cfg(unix)]
        {
            let err = read(Path::new("/dev/zero")).unwrap_err();
            assert!(err.message().contains("not a regular file"), "{err}");
            assert_eq!(err.origin(), "/dev/zero");
        }
        // Bounded however slow the machine: a read of /dev/zero never ends.
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let path = std::env::temp_dir().join(format!("resilience-fifo-{}", std::process::id()));
        let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo only creates a file.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let err = read(&path).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert!(err.message().contains("not a regular file"), "{err}");
    }

    #[test]
    fn a_regular_file_is_read_whole() {
        let path =
            std::env::temp_dir().join(format!("resilience-read-{}.toml", std::process::id()));
        std::fs::write(&path, "[monitor]\n").unwrap();
        let text = read_text(&path);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(text.unwrap(), "[monitor]\n");
    }
}
