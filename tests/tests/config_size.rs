//! `config::load` of big files: linear in the file's size, and refused at once past its
//! cap (16 MiB) or when the path is not a regular file.
//!
//! Ignored by default (it writes files of 1, 4 and 16 MB); `.ci/run` runs it in release
//! mode and prints the load times:
//!
//! ```text
//! cargo test -p resilience-tests --release --features config --test config_size -- --ignored --nocapture
//! ```
//!
//! The test that the time is linear without timing anything is the unit test
//! `config::text::tests::finding_the_lines_of_every_key_reads_each_byte_once`.

use std::time::Instant;

use resilience::config::{self, Config, MAX_FILE_BYTES};

/// A file of about `bytes` bytes: breaker tables of four fields each, one per name.
fn file_of(bytes: usize) -> String {
    let mut text = String::with_capacity(bytes + 256);
    let mut n = 0usize;
    while text.len() < bytes {
        text.push_str(&format!(
            "[breaker.\"size.{n}\"]\nfailure_threshold = {}\nsuccess_threshold = 2\nrecovery_timeout = \"30s\"\nhalf_open_max_calls = 1\n\n",
            3 + n % 5
        ));
        n += 1;
    }
    text
}

#[test]
#[ignore = "writes files of 1, 4 and 16 MB; run in release by .ci/run"]
fn load_time_is_linear_in_the_size_of_the_file() {
    let dir = std::env::temp_dir();
    let mut per_mb = Vec::new();
    // 16 MB of text, just under the 16 MiB cap.
    for mb in [1usize, 4, 16] {
        let text = file_of(mb * 1_000_000);
        assert!(text.len() as u64 <= MAX_FILE_BYTES);
        let path = dir.join(format!(
            "resilience-size-{}-{mb}mb.toml",
            std::process::id()
        ));
        std::fs::write(&path, &text).unwrap();
        let started = Instant::now();
        let parsed = Config::from_file(&path);
        let took = started.elapsed();
        std::fs::remove_file(&path).unwrap();
        let parsed = parsed.unwrap();
        println!(
            "config load of {mb:>2} MB ({} bytes, {} tables): {:>8.1} ms, {:.1} ms per MB",
            text.len(),
            parsed.len(),
            took.as_secs_f64() * 1e3,
            took.as_secs_f64() * 1e3 / mb as f64
        );
        per_mb.push(took.as_secs_f64() / mb as f64);
    }
    // Not a timing assertion: the figures are printed for the record; what fails is a
    // parse that no longer finishes (quadratic: 167 s for 4 MB before).
    assert_eq!(per_mb.len(), 3);
}

#[test]
fn a_file_over_the_cap_is_refused_before_it_is_read() {
    let path =
        std::env::temp_dir().join(format!("resilience-size-{}-over.toml", std::process::id()));
    let file = std::fs::File::create(&path).unwrap();
    // Sparse: one byte over the cap costs no disk.
    file.set_len(MAX_FILE_BYTES + 1).unwrap();
    drop(file);
    let err = config::load(&path).unwrap_err();
    std::fs::remove_file(&path).unwrap();
    assert!(err.message().contains("16 MiB"), "{err}");
    assert_eq!(err.origin(), path.display().to_string());
}
