//! What the attributes add to a build: `cargo bench --bench compile_time`.
//!
//! Writes two crates under the target directory (`<target>/compile-time/`): one with 500
//! functions carrying `resilience`'s attributes (a rotation of `#[retry]`,
//! `#[circuit_breaker]`, `#[error_context]`, `#[fallback]` and all four stacked, half of
//! them `async`), and the same functions without the attributes. Both share one target
//! directory, so the dependencies are built once, untimed; then each crate alone is
//! rebuilt (`cargo check`, then `cargo build`; dev profile, `CARGO_INCREMENTAL=0` so nothing is reused) three
//! times, alternately, and the medians are printed.
//!
//! It runs only under `cargo bench` (which passes `--bench`); `cargo test --benches` and
//! `cargo bench --no-run` skip it. `RESILIENCE_COMPILE_FUNCTIONS=N` changes the count.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

const ROUNDS: usize = 3;

fn main() -> ExitCode {
    if !std::env::args().any(|a| a == "--bench") {
        println!("compile_time: skipped (run it with `cargo bench --bench compile_time`)");
        return ExitCode::SUCCESS;
    }
    let functions = std::env::var("RESILIENCE_COMPILE_FUNCTIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(500);
    match run(functions) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("compile_time: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(functions: usize) -> Result<(), String> {
    let root = work_dir()?;
    let target = root.join("target");
    // The workspace's pinned toolchain, which directories outside it would not pick up.
    let toolchain = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rust-toolchain.toml");
    if toolchain.exists() {
        std::fs::create_dir_all(&root)
            .map_err(|e| format!("cannot create {}: {e}", root.display()))?;
        std::fs::copy(&toolchain, root.join("rust-toolchain.toml"))
            .map_err(|e| format!("cannot copy rust-toolchain.toml: {e}"))?;
    }
    let plain = write_crate(&root, "ct_plain", &source(functions, false))?;
    let annotated = write_crate(&root, "ct_annotated", &source(functions, true))?;

    println!(
        "compile_time: building the dependencies once (untimed) in {}",
        target.display()
    );
    for command in ["check", "build"] {
        build(command, &plain, &target)?;
        build(command, &annotated, &target)?;
    }

    // `check` stops after type checking (macro expansion included); `build` adds codegen.
    for command in ["check", "build"] {
        let (mut plain_times, mut annotated_times) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            plain_times.push(rebuild(command, &plain, &target)?);
            annotated_times.push(rebuild(command, &annotated, &target)?);
        }
        let (p, a) = (median(&mut plain_times), median(&mut annotated_times));
        let extra = a.saturating_sub(p);
        println!("compile_time: {functions} functions, `cargo {command}` (dev profile, not incremental), median of {ROUNDS}");
        println!("  without attributes: {:.2} s", p.as_secs_f64());
        println!("  with attributes:    {:.2} s", a.as_secs_f64());
        println!(
            "  extra: {:.2} s ({:.1} ms per annotated function)",
            extra.as_secs_f64(),
            extra.as_secs_f64() * 1000.0 / functions as f64
        );
    }
    Ok(())
}

/// `<target>/compile-time`: this bench runs from `<target>/<profile>/deps/`.
fn work_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let target = exe
        .ancestors()
        .nth(3)
        .ok_or_else(|| format!("unexpected executable path {}", exe.display()))?;
    Ok(target.join("compile-time"))
}

fn write_crate(root: &Path, name: &str, lib: &str) -> Result<PathBuf, String> {
    let dir = root.join(name);
    let src = dir.join("src");
    std::fs::create_dir_all(&src).map_err(|e| format!("cannot create {}: {e}", src.display()))?;
    let manifest = env!("CARGO_MANIFEST_DIR");
    let toml = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\nresilience = {{ path = \"{manifest}\" }}\nthiserror = \"2\"\n\n\
         # Not a member of the workspace it is generated in.\n[workspace]\n"
    );
    write(&dir.join("Cargo.toml"), &toml)?;
    // The workspace's lock file: the same dependency versions, no new resolution.
    let lock = Path::new(manifest).join("../Cargo.lock");
    if lock.exists() && !dir.join("Cargo.lock").exists() {
        std::fs::copy(&lock, dir.join("Cargo.lock"))
            .map_err(|e| format!("cannot copy Cargo.lock: {e}"))?;
    }
    write(&src.join("lib.rs"), lib)?;
    Ok(dir)
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The crate's source: `functions` functions, with or without the attributes.
fn source(functions: usize, annotated: bool) -> String {
    let mut s = String::from(
        "#![allow(dead_code, unused_imports)]\n\
         use resilience::{circuit_breaker, error_context, fallback, retry, CircuitOpen, ErrorContext, MarcusError};\n\n\
         #[derive(Debug, thiserror::Error, MarcusError)]\n\
         pub enum AppError {\n\
         \x20   #[error(\"timed out\")]\n\
         \x20   #[marcus(category = transient)]\n\
         \x20   Timeout { #[context] ctx: Box<ErrorContext> },\n\
         \x20   #[error(transparent)]\n\
         \x20   Open(#[from] CircuitOpen),\n\
         }\n\n\
         pub fn backup(agent: &str, x: u64) -> Result<u64, AppError> { Ok(x + agent.len() as u64) }\n\
         pub async fn backup_async(agent: &str, x: u64) -> Result<u64, AppError> { Ok(x + agent.len() as u64) }\n\n",
    );
    for i in 0..functions {
        let is_async = i % 2 == 1;
        let backup = if is_async { "backup_async" } else { "backup" };
        let retry = "#[retry(max_attempts = 3, backoff = exponential(base = 100ms, factor = 2.0, max = 5s))]";
        let breaker = format!(
            "#[circuit_breaker(name = \"f{i}\", failure_threshold = 5, recovery_timeout = 30s)]"
        );
        let context = format!("#[error_context(\"f{i}\", agent_id = agent)]");
        let fallback = format!("#[fallback({backup})]");
        if annotated {
            let attrs = match i % 5 {
                0 => retry.to_string(),
                1 => breaker,
                2 => context,
                3 => fallback,
                _ => format!("{fallback}\n{retry}\n{breaker}\n{context}"),
            };
            s.push_str(&attrs);
            s.push('\n');
        }
        let asyncness = if is_async { "async " } else { "" };
        let _ = write!(
            s,
            "pub {asyncness}fn f{i}(agent: &str, x: u64) -> Result<u64, AppError> {{\n\
             \x20   if x == {i} {{\n\
             \x20       return Err(AppError::Timeout {{ ctx: Box::default() }});\n\
             \x20   }}\n\
             \x20   Ok(x.wrapping_add({i}) + agent.len() as u64)\n\
             }}\n\n"
        );
    }
    s
}

fn cargo(command: &str, dir: &Path, target: &Path) -> Command {
    let mut cmd = Command::new(option_env!("CARGO").unwrap_or("cargo"));
    cmd.arg(command)
        .arg("--quiet")
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_INCREMENTAL", "0");
    cmd
}

/// Runs `cargo <command>` (`build` or `check`) in `dir`.
fn build(command: &str, dir: &Path, target: &Path) -> Result<Duration, String> {
    let start = Instant::now();
    let out = cargo(command, dir, target)
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let took = start.elapsed();
    if !out.status.success() {
        return Err(format!(
            "`cargo {command}` failed in {}:\n{}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(took)
}

/// Rebuilds the crate alone: its source is rewritten (new mtime), its dependencies are fresh.
fn rebuild(command: &str, dir: &Path, target: &Path) -> Result<Duration, String> {
    let lib = dir.join("src/lib.rs");
    let text =
        std::fs::read_to_string(&lib).map_err(|e| format!("cannot read {}: {e}", lib.display()))?;
    write(&lib, &text)?;
    build(command, dir, target)
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}
