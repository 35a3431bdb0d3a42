//! Instructions per call of every tight-loop case, counted by callgrind: figures the
//! other builds on a shared machine do not move.
//! `cargo bench -p resilience --features tower --bench instructions`.
//!
//! Each contender of `tight/attributes.rs` (and, with `tower`, `tight/layers.rs`) runs in
//! a child process of this bench under `valgrind --tool=callgrind`, counting only inside
//! the measured loop (`--toggle-collect`), after a warm-up that makes the lazy first
//! calls (registration, clock calibration). The loop runs twice, `SHORT` and `LONG`
//! calls; the difference of the two counts over `LONG - SHORT` is what one call costs,
//! the loop's own instructions included, as they are in criterion's figures (the loop is
//! criterion's: `black_box(call(black_box(1)))`). The table is the one `ratios.rs`
//! prints, in instructions. A second table counts, per call, the instructions that cost
//! far more than one: locked read-modify-writes, `rdtsc`, system calls, indirect calls
//! and jumps (from the long run's per-instruction counts and `objdump`'s disassembly).
//!
//! Arguments (after `--`): words keep only the groups or `group/contender` names that
//! contain one of them. `--profile group/contender` instead runs that contender for
//! `PROFILE` calls with `--dump-instr=yes`, keeps the output under
//! `<target>/callgrind/`, prints `callgrind_annotate`'s functions by instructions spent
//! in them, then the hot path: every instruction run at least once every two calls, as
//! `objdump` disassembles it, with how many times a call it ran. Build with
//! `CARGO_PROFILE_BENCH_DEBUG=line-tables-only` (and a `CARGO_TARGET_DIR` of its own, to
//! keep the usual build) to have callgrind_annotate attribute source lines too
//! (`callgrind_annotate --auto=yes FILE`).
//!
//! Runs only under `cargo bench`; without valgrind it says so and does nothing.

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

#[path = "tight/attributes.rs"]
mod attributes;
#[path = "tight/contenders.rs"]
mod contenders;
#[cfg(feature = "tower")]
#[path = "tight/layers.rs"]
mod layers;
#[path = "tight/table.rs"]
mod table;

use contenders::Contenders;

const SHORT: u64 = 20_000;
const LONG: u64 = 120_000;
const WARM_UP: u64 = 1_000;
const PROFILE: u64 = 1_000_000;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        return child(&args[1..]);
    }
    if !args.iter().any(|a| a == "--bench") {
        println!("instructions: skipped (run it with `cargo bench --bench instructions`)");
        return ExitCode::SUCCESS;
    }
    if Command::new("valgrind").arg("--version").output().is_err() {
        println!("instructions: skipped: valgrind is not installed (`apt-get install valgrind`)");
        return ExitCode::SUCCESS;
    }
    let result = match args.iter().position(|a| a == "--profile") {
        Some(i) => match args.get(i + 1) {
            Some(case) => profile(case),
            None => Err("`--profile` takes a `group/contender`".to_string()),
        },
        None => {
            let filters: Vec<&str> = args
                .iter()
                .filter(|a| !a.starts_with('-'))
                .map(String::as_str)
                .collect();
            count_all(&filters)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("instructions: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Every group this build has: the attributes', and the layers' with `tower`.
fn groups() -> Vec<&'static str> {
    let attributes = attributes::GROUPS.iter();
    #[cfg(feature = "tower")]
    let attributes = attributes.chain(layers::GROUPS);
    attributes.copied().collect()
}

/// Hands `group`'s contenders to `to`, inside a tokio runtime's context (the tower
/// layers', tower-resilience's and the bulkhead peer's).
fn run(group: &str, to: &mut impl Contenders) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime");
    let _guard = runtime.enter();
    #[cfg(feature = "tower")]
    if layers::GROUPS.contains(&group) {
        return layers::run(group, to);
    }
    attributes::run(group, to)
}

/// Only collects the names.
struct Names(Vec<String>);

impl Contenders for Names {
    fn contender<R>(&mut self, name: &str, _: impl FnMut(u64) -> R) {
        self.0.push(name.to_string());
    }
}

fn count_all(filters: &[&str]) -> Result<(), String> {
    let mut measured = Vec::new();
    let mut kinds = Vec::new();
    let mut disassembled = HashMap::new();
    for group in groups() {
        let mut names = Names(Vec::new());
        run(group, &mut names);
        let chosen = |name: &str| {
            let id = format!("{group}/{name}");
            filters.is_empty() || filters.iter().any(|f| id.contains(f))
        };
        if !names.0.iter().any(|n| chosen(n)) {
            continue;
        }
        let mut contenders = Vec::new();
        for name in &names.0 {
            // `bare` always: the overheads need it.
            if name != "bare" && !chosen(name) {
                continue;
            }
            let short = callgrind(group, name, SHORT, &[])?;
            let long = callgrind(group, name, LONG, &["--dump-instr=yes"])?;
            let per_call = (long.0 as f64 - short.0 as f64) / (LONG - SHORT) as f64;
            let costly = costly(&long.1, &mut disassembled)?;
            eprintln!("instructions: {group}/{name}: {per_call:.1} a call");
            kinds.push((format!("{group}/{name}"), per_call, costly));
            contenders.push((name.clone(), per_call));
        }
        measured.push(table::Measured {
            group: group.to_string(),
            contenders,
        });
    }
    println!("instructions per call (callgrind, {LONG} − {SHORT} calls; overhead = count − bare)");
    table::print(&measured, "");
    println!();
    println!("the costly instructions among them, per call (the loop's {LONG} calls):");
    println!("| contender | instructions | locked read-modify-writes | `rdtsc` | system calls | indirect calls and jumps |");
    println!("|---|---|---|---|---|---|");
    for (name, per_call, c) in kinds {
        let per = |n: u64| n as f64 / LONG as f64;
        println!(
            "| {name} | {per_call:.0} | {:.2} | {:.2} | {:.2} | {:.2} |",
            per(c.locked),
            per(c.rdtsc),
            per(c.syscall),
            per(c.indirect)
        );
    }
    Ok(())
}

/// How many of the instructions run were of the kinds that cost far more than their
/// count says.
#[derive(Default)]
struct Costly {
    /// `lock`-prefixed instructions and `xchg` with memory: they wait for the store buffer.
    locked: u64,
    rdtsc: u64,
    /// Under valgrind every `clock_gettime` is one (the vDSO is not used).
    syscall: u64,
    /// `call *` and `jmp *`: through a vtable, the GOT or a jump table.
    indirect: u64,
}

/// Counts the costly instructions of a callgrind output made with `--dump-instr=yes`,
/// disassembling each object once (`disassembled` keeps them).
fn costly(
    file: &Path,
    disassembled: &mut HashMap<String, HashMap<u64, String>>,
) -> Result<Costly, String> {
    let mut c = Costly::default();
    for ((object, _), addresses) in per_instruction(file)? {
        if !disassembled.contains_key(&object) {
            let lines = disassemble(&object, None)?;
            disassembled.insert(object.clone(), lines.into_iter().collect());
        }
        let lines = &disassembled[&object];
        for (address, ir) in addresses {
            let Some(instruction) = lines.get(&address) else {
                continue;
            };
            let mnemonic = instruction.split_whitespace().next().unwrap_or("");
            match mnemonic {
                "lock" => c.locked += ir,
                "xchg" if instruction.contains('(') => c.locked += ir,
                "rdtsc" | "rdtscp" => c.rdtsc += ir,
                "syscall" => c.syscall += ir,
                "call" | "jmp" if instruction.contains('*') => c.indirect += ir,
                _ => {}
            }
        }
    }
    Ok(c)
}

/// `objdump -d` of `object` (between `range`'s addresses if given): each instruction's
/// address and text.
fn disassemble(object: &str, range: Option<(u64, u64)>) -> Result<Vec<(u64, String)>, String> {
    let mut cmd = Command::new("objdump");
    cmd.args(["-d", "--no-show-raw-insn", "-C"]);
    if let Some((first, last)) = range {
        cmd.arg(format!("--start-address={first:#x}"))
            .arg(format!("--stop-address={last:#x}"));
    }
    let out = cmd
        .arg(object)
        .output()
        .map_err(|e| format!("cannot run objdump: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let (at, instruction) = line.trim_start().split_once(':')?;
            let at = u64::from_str_radix(at, 16).ok()?;
            Some((at, instruction.trim().to_string()))
        })
        .collect())
}

fn profile(case: &str) -> Result<(), String> {
    let (group, name) = case
        .split_once('/')
        .ok_or_else(|| format!("`{case}` is not `group/contender`"))?;
    let (total, file) = callgrind(group, name, PROFILE, &["--dump-instr=yes"])?;
    println!(
        "instructions: {case}: {total} instructions in {PROFILE} calls ({:.1} a call), in {}",
        total as f64 / PROFILE as f64,
        file.display()
    );
    let out = Command::new("callgrind_annotate")
        .arg("--inclusive=no")
        .arg(&file)
        .output()
        .map_err(|e| format!("cannot run callgrind_annotate: {e}"))?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    println!("instructions: the hot path of {case}, instructions run at least once every two calls (times a call, address, instruction):");
    hot_path(&file, PROFILE)
}

/// Prints the instructions of `file` (a callgrind output with `--dump-instr=yes`) that ran
/// at least `calls / 2` times, function by function, as `objdump` disassembles them.
fn hot_path(file: &Path, calls: u64) -> Result<(), String> {
    for ((object, function), addresses) in per_instruction(file)? {
        let hot: BTreeMap<u64, u64> = addresses
            .into_iter()
            .filter(|&(_, ir)| ir * 2 >= calls)
            .collect();
        let (Some((&first, _)), Some((&last, _))) = (hot.first_key_value(), hot.last_key_value())
        else {
            continue;
        };
        let total: u64 = hot.values().sum();
        println!(
            "-- {function} ({:.1} a call) [{object}]",
            total as f64 / calls as f64
        );
        for (at, instruction) in disassemble(&object, Some((first, last + 16)))? {
            if let Some(ir) = hot.get(&at) {
                println!(
                    "  {:>5.2}  {at:x}:\t{instruction}",
                    *ir as f64 / calls as f64
                );
            }
        }
    }
    Ok(())
}

/// The instructions run, by (object, function) and address, from a callgrind output made
/// with `--dump-instr=yes` (positions `instr line`, one event, `Ir`).
type PerInstruction = BTreeMap<(String, String), BTreeMap<u64, u64>>;

fn per_instruction(file: &Path) -> Result<PerInstruction, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let mut costs = PerInstruction::new();
    let mut names: HashMap<String, String> = HashMap::new();
    let (mut object, mut function) = (String::new(), String::new());
    let (mut address, mut after_calls) = (0u64, false);
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("ob=") {
            object = compressed(&mut names, "ob", rest);
        } else if let Some(rest) = line.strip_prefix("fn=") {
            function = compressed(&mut names, "fn", rest);
        } else if let Some(rest) = line.strip_prefix("cob=") {
            compressed(&mut names, "ob", rest);
        } else if let Some(rest) = line.strip_prefix("cfn=") {
            compressed(&mut names, "fn", rest);
        } else if line.starts_with("calls=") {
            after_calls = true;
        } else if let Some(first) = line.split_whitespace().next() {
            let position = if let Some(hex) = first.strip_prefix("0x") {
                u64::from_str_radix(hex, 16).ok()
            } else if let Some(n) = first.strip_prefix('+') {
                n.parse::<u64>().ok().map(|n| address + n)
            } else if let Some(n) = first.strip_prefix('-') {
                n.parse::<u64>().ok().map(|n| address - n)
            } else if first == "*" {
                Some(address)
            } else {
                None
            };
            let Some(position) = position else { continue };
            address = position;
            // The line after `calls=` is the call's inclusive cost: not this instruction's.
            if std::mem::take(&mut after_calls) {
                continue;
            }
            let ir: u64 = line
                .split_whitespace()
                .nth(2)
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            *costs
                .entry((object.clone(), function.clone()))
                .or_default()
                .entry(address)
                .or_default() += ir;
        }
    }
    Ok(costs)
}

/// A name in callgrind's compressed form: `(id) name` defines `id`, `(id)` refers to it.
fn compressed(names: &mut HashMap<String, String>, kind: &str, text: &str) -> String {
    match text.split_once(')') {
        Some((id, rest)) if text.starts_with('(') => {
            let key = format!("{kind}{id}");
            let rest = rest.trim();
            if rest.is_empty() {
                names.get(&key).cloned().unwrap_or_default()
            } else {
                names.insert(key, rest.to_string());
                rest.to_string()
            }
        }
        _ => text.trim().to_string(),
    }
}

/// `<target>/callgrind`, where this bench runs from `<target>/<profile>/deps/`.
fn out_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let target = exe
        .ancestors()
        .nth(3)
        .ok_or_else(|| format!("unexpected executable path {}", exe.display()))?;
    let dir = target.join("callgrind");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// Runs `calls` calls of `group/name` in a child under callgrind; the instructions
/// counted inside the measured loop, and the output file.
fn callgrind(
    group: &str,
    name: &str,
    calls: u64,
    extra: &[&str],
) -> Result<(u64, PathBuf), String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let file = out_dir()?.join(format!("{group}.{name}.{calls}.out"));
    let out = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg("--collect-atstart=no")
        .arg("--toggle-collect=*measured_loop*")
        .arg(format!("--callgrind-out-file={}", file.display()))
        .args(extra)
        .arg(&exe)
        .args(["--child", group, name, &calls.to_string()])
        .output()
        .map_err(|e| format!("cannot run valgrind: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{group}/{name} failed under callgrind:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok((total(&file)?, file))
}

/// The `summary:` (or `totals:`) line of a callgrind output file.
fn total(file: &Path) -> Result<u64, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    text.lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
                .and_then(|n| n.split_whitespace().next()?.parse().ok())
        })
        .ok_or_else(|| format!("no instruction total in {}", file.display()))
}

/// Runs one contender: `--child group contender calls`.
fn child(args: &[String]) -> ExitCode {
    let [group, name, calls] = args else {
        eprintln!("instructions: `--child` takes a group, a contender and a count");
        return ExitCode::FAILURE;
    };
    let Ok(calls) = calls.parse() else {
        eprintln!("instructions: `{calls}` is not a count");
        return ExitCode::FAILURE;
    };
    let mut only = Only {
        name,
        calls,
        ran: false,
    };
    run(group, &mut only);
    if only.ran {
        ExitCode::SUCCESS
    } else {
        eprintln!("instructions: no contender {group}/{name}");
        ExitCode::FAILURE
    }
}

/// Runs the contender named `name`, `calls` times in the measured loop.
struct Only<'a> {
    name: &'a str,
    calls: u64,
    ran: bool,
}

impl Contenders for Only<'_> {
    fn contender<R>(&mut self, name: &str, mut call: impl FnMut(u64) -> R) {
        if name != self.name {
            return;
        }
        for _ in 0..WARM_UP {
            black_box(call(black_box(1)));
        }
        measured_loop(self.calls, &mut call);
        self.ran = true;
    }
}

/// The loop callgrind counts in (`--toggle-collect=*measured_loop*`): criterion's.
#[inline(never)]
fn measured_loop<R>(calls: u64, call: &mut impl FnMut(u64) -> R) {
    for _ in 0..calls {
        black_box(call(black_box(1)));
    }
}
