//! The ratio table of one criterion run: `cargo bench -p resilience --bench ratios`,
//! after the benches whose groups you want (`tight_loop`, `tower`, `overhead`).
//!
//! Reads every `<target>/criterion/<group>/<contender>/new/estimates.json` (the last run
//! of each benchmark) and prints, per group, each of ours (contenders named
//! `resilience…`) against the best peer (any name but `bare` and ours): the medians, the
//! overheads (time − `bare`) and the ratio of the overheads. Arguments that do not start
//! with `-` keep only the groups whose name contains one of them
//! (`-- tight_ tower_`). Only run together: the figures of benchmarks run at other times
//! are not comparable, and this reads whatever each benchmark's last run left.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[path = "tight/table.rs"]
mod table;

fn main() -> ExitCode {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let dir = match criterion_dir() {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("ratios: {e}");
            return ExitCode::FAILURE;
        }
    };
    match read(&dir, &filters) {
        Ok(groups) if groups.is_empty() => {
            println!(
                "ratios: no criterion results in {} (matching {filters:?}); run the benches first",
                dir.display()
            );
            ExitCode::SUCCESS
        }
        Ok(groups) => {
            println!(
                "ratios: medians from {} (overhead = time − bare; ratio = ours / best peer)",
                dir.display()
            );
            table::print(&groups, " ns");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ratios: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `$CARGO_TARGET_DIR/criterion`, or `<target>/criterion` where this bench runs from
/// `<target>/<profile>/deps/` (as criterion finds it).
fn criterion_dir() -> Result<PathBuf, String> {
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return Ok(PathBuf::from(target).join("criterion"));
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let target = exe
        .ancestors()
        .nth(3)
        .ok_or_else(|| format!("unexpected executable path {}", exe.display()))?;
    Ok(target.join("criterion"))
}

fn read(dir: &Path, filters: &[String]) -> Result<Vec<table::Measured>, String> {
    let mut groups: Vec<table::Measured> = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(groups);
    };
    let mut benches = Vec::new();
    for group_dir in entries.flatten() {
        let Ok(contenders) = std::fs::read_dir(group_dir.path()) else {
            continue;
        };
        for contender in contenders.flatten() {
            let new = contender.path().join("new");
            if new.join("estimates.json").is_file() && new.join("benchmark.json").is_file() {
                benches.push(new);
            }
        }
    }
    benches.sort();
    for new in benches {
        let id = json(&new.join("benchmark.json"))?;
        let estimates = json(&new.join("estimates.json"))?;
        let (Some(group), Some(name)) = (id["group_id"].as_str(), id["function_id"].as_str())
        else {
            continue;
        };
        if !filters.is_empty() && !filters.iter().any(|f| group.contains(f.as_str())) {
            continue;
        }
        let median = estimates["median"]["point_estimate"]
            .as_f64()
            .ok_or_else(|| format!("no median in {}", new.join("estimates.json").display()))?;
        match groups.iter_mut().find(|g| g.group == group) {
            Some(g) => g.contenders.push((name.to_string(), median)),
            None => groups.push(table::Measured {
                group: group.to_string(),
                contenders: vec![(name.to_string(), median)],
            }),
        }
    }
    Ok(groups)
}

fn json(path: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))
}
