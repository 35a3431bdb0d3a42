//! The table of ratios both `ratios.rs` (criterion's times) and `instructions.rs`
//! (callgrind's counts) print: per group, each of ours and the best peer, their overheads
//! over `bare` and the ratio of the two (below 1: ours adds less).

/// One group's figures: each contender's name and value (ns, or instructions), in order.
pub struct Measured {
    pub group: String,
    pub contenders: Vec<(String, f64)>,
}

/// Prints `groups` as a Markdown table; `unit` follows each value (" ns", or "" for counts).
pub fn print(groups: &[Measured], unit: &str) {
    println!("| group | bare | ours | overhead | best peer | its overhead | ratio | other peers |");
    println!("|---|---|---|---|---|---|---|---|");
    for group in groups {
        let value = |name: &str| {
            group
                .contenders
                .iter()
                .find(|(n, _)| n == name)
                .map(|&(_, v)| v)
        };
        let Some(bare) = value("bare") else {
            println!("| {} | (no `bare`) | | | | | | |", group.group);
            continue;
        };
        let ours: Vec<_> = group
            .contenders
            .iter()
            .filter(|(n, _)| n.starts_with("resilience"))
            .collect();
        let mut peers: Vec<_> = group
            .contenders
            .iter()
            .filter(|(n, _)| n != "bare" && !n.starts_with("resilience"))
            .collect();
        peers.sort_by(|a, b| a.1.total_cmp(&b.1));
        let best = peers.first();
        let others = peers
            .iter()
            .skip(1)
            .map(|(n, v)| format!("{n} {v:.2} ({:.2})", v - bare))
            .collect::<Vec<_>>()
            .join(", ");
        for (name, v) in &ours {
            let overhead = v - bare;
            let (peer, peer_overhead, ratio) = match best {
                Some((peer, pv)) => {
                    let po = pv - bare;
                    let ratio = if po > 0.0 {
                        format!("{:.3}", overhead / po)
                    } else {
                        "–".to_string()
                    };
                    (
                        format!("{peer} {pv:.2}{unit}"),
                        format!("{po:.2}{unit}"),
                        ratio,
                    )
                }
                None => ("–".to_string(), "–".to_string(), "–".to_string()),
            };
            println!(
                "| {} | {bare:.2}{unit} | {name} {v:.2}{unit} | {overhead:.2}{unit} | {peer} | {peer_overhead} | {ratio} | {others} |",
                group.group
            );
        }
    }
}
