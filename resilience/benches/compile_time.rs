//! What the attributes add to a build, beside `#[tracing::instrument]`:
//! `cargo bench -p resilience --bench compile_time`.
//!
//! Writes crates under `<target>/compile-time/`, each with the same `N` functions (200 by
//! default, half of them `async`, each `-> Result<u64, AppError>` with an early return):
//! - `ct_plain`: without attributes;
//! - `ct_instrument`: each with `#[tracing::instrument]`;
//! - `ct_ours`: each with `#[retry]` and `#[circuit_breaker(name = "f<i>")]`;
//! - with `-- mix`, also `ct_mix`: a rotation of `#[retry]`, `#[circuit_breaker]`,
//!   `#[error_context]`, `#[fallback]` and all four stacked.
//!
//! The crates share one target directory and depend on the same crates, so the
//! dependencies are built once, untimed; then each crate alone is checked again
//! (`cargo check`, dev profile, `CARGO_INCREMENTAL=0` so nothing is reused) 5 times
//! (`RESILIENCE_COMPILE_ROUNDS`), the crates alternating, and the medians are printed:
//! each crate's time, the time per function above `ct_plain`, and the ratio of ours to
//! `#[instrument]`'s; by the wall clock, and in CPU time (user and system of cargo and
//! the rustc it ran, `getrusage(RUSAGE_CHILDREN)`, on Linux), which the other builds on
//! a shared machine barely move. `-- build` times `cargo build` (codegen too) the same
//! way.
//!
//! `-- lines` instead counts the lines each attribute generates for a trivial function,
//! beside `#[instrument]`'s: one crate with a module per attribute, expanded by rustc
//! (`-Zunpretty=expanded`, allowed on the stable compiler by `RUSTC_BOOTSTRAP=1`, as
//! `cargo expand` does), every macro expanded to the end (`tracing`'s `macro_rules!`
//! included, as the compiler sees them), counted in the compiler's pretty-printed form;
//! the plain function's lines are subtracted.
//!
//! Runs only under `cargo bench` (which passes `--bench`); `cargo test --benches` and
//! `cargo bench --no-run` skip it. `RESILIENCE_COMPILE_FUNCTIONS=N` changes the count,
//! `RESILIENCE_COMPILE_ROUNDS=R` the rounds.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("compile_time: skipped (run it with `cargo bench --bench compile_time`)");
        return ExitCode::SUCCESS;
    }
    let has = |word: &str| args.iter().any(|a| a == word);
    let result = if has("lines") {
        lines()
    } else {
        let functions = env_number("RESILIENCE_COMPILE_FUNCTIONS", 200);
        let rounds = env_number("RESILIENCE_COMPILE_ROUNDS", 5);
        timings(functions, rounds.max(1), has("mix"), has("build"))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("compile_time: {e}");
            ExitCode::FAILURE
        }
    }
}

fn env_number(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(n) => n.parse().unwrap_or_else(|_| {
            eprintln!("compile_time: {name}={n} is not a number; using {default}");
            default
        }),
        Err(_) => default,
    }
}

/// The crates timed, by how their functions are annotated.
#[derive(Clone, Copy, PartialEq)]
enum Attributes {
    Plain,
    Instrument,
    Ours,
    Mix,
}

impl Attributes {
    fn crate_name(self) -> &'static str {
        match self {
            Attributes::Plain => "ct_plain",
            Attributes::Instrument => "ct_instrument",
            Attributes::Ours => "ct_ours",
            Attributes::Mix => "ct_mix",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Attributes::Plain => "plain functions",
            Attributes::Instrument => "#[tracing::instrument]",
            Attributes::Ours => "#[retry] #[circuit_breaker(name = ..)]",
            Attributes::Mix => "a rotation of ours (retry, breaker, context, fallback, all four)",
        }
    }
}

fn timings(functions: usize, rounds: usize, mix: bool, build_too: bool) -> Result<(), String> {
    let root = work_dir()?;
    let target = root.join("target");
    let mut kinds = vec![Attributes::Plain, Attributes::Instrument, Attributes::Ours];
    if mix {
        kinds.push(Attributes::Mix);
    }
    let mut dirs = Vec::new();
    for &kind in &kinds {
        dirs.push(write_crate(
            &root,
            kind.crate_name(),
            &source(functions, kind),
        )?);
    }
    let commands: &[&str] = if build_too {
        &["check", "build"]
    } else {
        &["check"]
    };

    println!(
        "compile_time: building the dependencies once (untimed) in {}",
        target.display()
    );
    for command in commands {
        for dir in &dirs {
            cargo(command, dir, &target, &[], &[])?;
        }
    }

    for command in commands {
        let mut walls = vec![Vec::new(); kinds.len()];
        let mut cpus = vec![Vec::new(); kinds.len()];
        for _ in 0..rounds {
            for (i, dir) in dirs.iter().enumerate() {
                let took = rebuild(command, dir, &target)?;
                walls[i].push(took.wall);
                cpus[i].extend(took.cpu);
            }
        }
        println!(
            "compile_time: {functions} functions (half async), `cargo {command}` (dev profile, not incremental), median of {rounds}"
        );
        report("wall clock", &kinds, &mut walls, functions);
        if cpus.iter().all(|c| !c.is_empty()) {
            report(
                "CPU time (user + system, of cargo and rustc)",
                &kinds,
                &mut cpus,
                functions,
            );
        }
    }
    Ok(())
}

/// Prints each crate's median, its time per function above `ct_plain` (the first), and
/// the ratio of ours (the third) to `#[instrument]`'s (the second).
fn report(what: &str, kinds: &[Attributes], times: &mut [Vec<Duration>], functions: usize) {
    println!("  {what}:");
    let medians: Vec<f64> = times.iter_mut().map(|t| median(t).as_secs_f64()).collect();
    let per_function = |s: f64| (s - medians[0]) * 1000.0 / functions as f64;
    for ((kind, median), times) in kinds.iter().zip(&medians).zip(times.iter()) {
        let all: Vec<String> = times
            .iter()
            .map(|t| format!("{:.2}", t.as_secs_f64()))
            .collect();
        let above = if *kind == Attributes::Plain {
            String::new()
        } else {
            format!(", {:+.2} ms a function above plain", per_function(*median))
        };
        println!(
            "    {:<40} {median:.2} s{above} (runs: {})",
            kind.label(),
            all.join(", ")
        );
    }
    let (instrument, ours) = (per_function(medians[1]), per_function(medians[2]));
    if instrument > 0.0 {
        println!(
            "    ours / #[instrument], per function above plain: {:.2}",
            ours / instrument
        );
    }
}

/// `<target>/compile-time`: this bench runs from `<target>/<profile>/deps/`.
fn work_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let target = exe
        .ancestors()
        .nth(3)
        .ok_or_else(|| format!("unexpected executable path {}", exe.display()))?;
    let root = target.join("compile-time");
    std::fs::create_dir_all(&root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    // The workspace's pinned toolchain, which directories outside it would not pick up.
    let toolchain = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rust-toolchain.toml");
    if toolchain.exists() {
        std::fs::copy(&toolchain, root.join("rust-toolchain.toml"))
            .map_err(|e| format!("cannot copy rust-toolchain.toml: {e}"))?;
    }
    Ok(root)
}

/// Writes (or rewrites) the crate `name` with `lib` as its `src/lib.rs`. Every generated
/// crate has the same dependencies, so they share one build of them.
fn write_crate(root: &Path, name: &str, lib: &str) -> Result<PathBuf, String> {
    let dir = root.join(name);
    let src = dir.join("src");
    std::fs::create_dir_all(&src).map_err(|e| format!("cannot create {}: {e}", src.display()))?;
    let manifest = env!("CARGO_MANIFEST_DIR");
    let toml = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\nresilience = {{ path = \"{manifest}\" }}\nthiserror = \"2\"\n\
         tracing = {{ version = \"0.1\", features = [\"attributes\"] }}\n\n\
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

/// What every generated crate starts with: its error type and the fallbacks.
const PRELUDE: &str = "#![allow(dead_code, unused_imports)]\n\
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
    pub async fn backup_async(agent: &str, x: u64) -> Result<u64, AppError> { Ok(x + agent.len() as u64) }\n\n";

/// The crate's source: `functions` functions, annotated as `kind` says.
fn source(functions: usize, kind: Attributes) -> String {
    let mut s = String::from(PRELUDE);
    for i in 0..functions {
        let is_async = i % 2 == 1;
        let backup = if is_async { "backup_async" } else { "backup" };
        let retry = "#[retry(max_attempts = 3, backoff = exponential(base = 100ms, factor = 2.0, max = 5s))]";
        let breaker = format!(
            "#[circuit_breaker(name = \"f{i}\", failure_threshold = 5, recovery_timeout = 30s)]"
        );
        let context = format!("#[error_context(\"f{i}\", agent_id = agent)]");
        let fallback = format!("#[fallback({backup})]");
        let attrs = match kind {
            Attributes::Plain => String::new(),
            Attributes::Instrument => "#[tracing::instrument]".to_string(),
            Attributes::Ours => format!("{retry}\n{breaker}"),
            Attributes::Mix => match i % 5 {
                0 => retry.to_string(),
                1 => breaker,
                2 => context,
                3 => fallback,
                _ => format!("{fallback}\n{retry}\n{breaker}\n{context}"),
            },
        };
        if !attrs.is_empty() {
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

/// How long a command took: by the clock, and in CPU time (user and system, of it and
/// the processes it waited for) where the OS says, which the other builds on a shared
/// machine move far less.
struct Took {
    wall: Duration,
    cpu: Option<Duration>,
}

/// The CPU time of this process's children (and theirs) that have ended.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn children_cpu() -> Option<Duration> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: `getrusage` writes a whole `rusage` into the pointer it is given, which
    // points to one; `usage` is read only when it says it did.
    let usage = unsafe {
        if libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) != 0 {
            return None;
        }
        usage.assume_init()
    };
    let time = |t: libc::timeval| -> Option<Duration> {
        Some(Duration::new(
            t.tv_sec.try_into().ok()?,
            u32::try_from(t.tv_usec).ok()? * 1000,
        ))
    };
    Some(time(usage.ru_utime)? + time(usage.ru_stime)?)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn children_cpu() -> Option<Duration> {
    None
}

/// Runs `cargo <command> <args>` in `dir` with the variables `env`: how long it took and
/// its standard output.
fn cargo(
    command: &str,
    dir: &Path,
    target: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<(Took, String), String> {
    let mut cmd = Command::new(option_env!("CARGO").unwrap_or("cargo"));
    cmd.arg(command)
        .arg("--quiet")
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_INCREMENTAL", "0")
        .envs(env.iter().copied());
    let (start, cpu) = (Instant::now(), children_cpu());
    let out = cmd.output().map_err(|e| format!("cannot run cargo: {e}"))?;
    let took = Took {
        wall: start.elapsed(),
        cpu: cpu.and_then(|before| Some(children_cpu()?.saturating_sub(before))),
    };
    if !out.status.success() {
        return Err(format!(
            "`cargo {command}` failed in {}:\n{}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok((took, String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// Checks or builds the crate alone: its source is rewritten (new mtime), its
/// dependencies are fresh.
fn rebuild(command: &str, dir: &Path, target: &Path) -> Result<Took, String> {
    let lib = dir.join("src/lib.rs");
    let text =
        std::fs::read_to_string(&lib).map_err(|e| format!("cannot read {}: {e}", lib.display()))?;
    write(&lib, &text)?;
    Ok(cargo(command, dir, target, &[], &[])?.0)
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// One trivial function per attribute (and the pair the timings measure), each in a
/// module of its own: `(module, attributes, async)`.
const TRIVIAL: &[(&str, &str, bool)] = &[
    ("plain", "", false),
    ("plain_async", "", true),
    ("instrument", "#[tracing::instrument]", false),
    ("instrument_async", "#[tracing::instrument]", true),
    ("retry", "#[retry]", false),
    ("retry_async", "#[retry]", true),
    ("circuit_breaker", "#[circuit_breaker]", false),
    ("circuit_breaker_async", "#[circuit_breaker]", true),
    (
        "retry_and_circuit_breaker",
        "#[retry]\n#[circuit_breaker]",
        false,
    ),
    (
        "retry_and_circuit_breaker_async",
        "#[retry]\n#[circuit_breaker]",
        true,
    ),
    (
        "bulkhead",
        "#[resilience::bulkhead(max_concurrent = 10)]",
        false,
    ),
    (
        "rate_limit",
        "#[resilience::rate_limit(limit = 100, per = 1s)]",
        false,
    ),
    ("fallback", "#[fallback(super::backup)]", false),
    ("error_context", "#[error_context(\"op\")]", false),
    ("timeout_async", "#[resilience::timeout(250ms)]", true),
    ("hedge_async", "#[resilience::hedge(delay = 50ms)]", true),
];

/// The lines each attribute generates for a trivial function, beside `#[instrument]`'s.
fn lines() -> Result<(), String> {
    let root = work_dir()?;
    // Its own target directory: `RUSTC_BOOTSTRAP` changes every dependency's fingerprint.
    let target = root.join("target-lines");
    let mut lib = String::from(PRELUDE);
    lib = lib.replace(
        "pub enum AppError {\n",
        "pub enum AppError {\n    #[error(transparent)]\n    Full(#[from] resilience::BulkheadFull),\n    \
         #[error(transparent)]\n    Limited(#[from] resilience::RateLimited),\n    \
         #[error(transparent)]\n    TimedOut(#[from] resilience::TimedOut),\n",
    );
    for (module, attrs, is_async) in TRIVIAL {
        let asyncness = if *is_async { "async " } else { "" };
        let _ = write!(
            lib,
            "mod case_{module} {{\n    use super::*;\n    {attrs}\n    pub {asyncness}fn f(agent: &str, x: u64) -> Result<u64, AppError> {{\n        Ok(x + 1)\n    }}\n}}\n\n",
            attrs = attrs.replace('\n', "\n    ")
        );
    }
    let dir = write_crate(&root, "ct_lines", &lib)?;
    println!(
        "compile_time: expanding {} (its dependencies are built once)",
        dir.display()
    );
    let (_, expanded) = cargo(
        "rustc",
        &dir,
        &target,
        &["--lib", "--", "-Zunpretty=expanded"],
        &[("RUSTC_BOOTSTRAP", "1")],
    )?;
    write(&target.join("ct_lines.expanded.rs"), &expanded)?;
    let counted = count_modules(&expanded);
    let of = |module: &str| {
        counted
            .iter()
            .find(|(m, _)| m.strip_prefix("case_") == Some(module))
            .map(|&(_, n)| n)
            .ok_or_else(|| format!("module {module} not found in the expansion"))
    };
    let (plain, plain_async) = (of("plain")?, of("plain_async")?);
    println!(
        "compile_time: lines a trivial function gains from each attribute, every macro expanded \
         (rustc -Zunpretty=expanded; the expansion is in {}):",
        target.join("ct_lines.expanded.rs").display()
    );
    println!("| attribute | sync fn | async fn |");
    println!("|---|---|---|");
    let mut rows: Vec<(String, [Option<usize>; 2])> = Vec::new();
    for (module, attrs, is_async) in TRIVIAL.iter().skip(2) {
        let lines = of(module)?;
        let extra = lines.saturating_sub(if *is_async { plain_async } else { plain });
        let name = attrs.replace('\n', " ");
        let slot = usize::from(*is_async);
        match rows.iter_mut().find(|(n, _)| *n == name) {
            Some((_, cells)) => cells[slot] = Some(extra),
            None => {
                let mut cells = [None, None];
                cells[slot] = Some(extra);
                rows.push((name, cells));
            }
        }
    }
    for (name, cells) in rows {
        let cell = |c: Option<usize>| c.map_or("–".to_string(), |n| n.to_string());
        println!("| `{name}` | {} | {} |", cell(cells[0]), cell(cells[1]));
    }
    println!("(the plain function itself: {plain} lines sync, {plain_async} async)");
    Ok(())
}

/// The non-blank lines of each top-level `mod name { .. }` in rustc's pretty-printed
/// expansion (which indents by four spaces and closes a top-level item at column 0).
fn count_modules(expanded: &str) -> Vec<(String, usize)> {
    let mut counted = Vec::new();
    let mut current: Option<(String, usize)> = None;
    for line in expanded.lines() {
        if let Some((_, n)) = current.as_mut() {
            if line == "}" {
                counted.extend(current.take());
            } else if !line.trim().is_empty() {
                *n += 1;
            }
        } else if let Some(name) = line
            .strip_prefix("mod ")
            .and_then(|rest| rest.strip_suffix(" {"))
        {
            current = Some((name.to_string(), 0));
        }
    }
    counted
}
