//! `Topology::Cluster`: a Redis Cluster of three masters and three replicas made with
//! `redis-cli --cluster create` on free 127.0.0.1 ports. The single-server scenarios
//! (a)-(d) run on it across three processes (a cluster rate limit, quorum breakers, one
//! trial), every script's keys map to one hash slot (asked of Redis itself), and a
//! master is killed under load: calls keep completing within the bound of scenario (e),
//! its replica takes its slots, and the opening it held is still in force (nothing lost
//! beyond what Redis lost).
//!
//! `cargo test -p resilience-tests --features redis --test cluster_redis_cluster` (needs
//! `redis-server` and `redis-cli` on the PATH).

use std::time::{Duration, Instant};

use resilience_tests::redis_server::{create_cluster, RedisServer};

// Each cluster target uses part of what the children and scenarios share.
#[allow(dead_code)]
mod cluster_common;

use cluster_common as common;
use common::{field, main_with, Instance, OP_TIMEOUT_MS, SEC};

fn spec(nodes: &[RedisServer]) -> String {
    let urls: Vec<String> = nodes.iter().take(3).map(RedisServer::url).collect();
    format!("cluster={}", urls.join(","))
}

/// The slot Redis computes for `key`.
fn slot(node: &RedisServer, key: &str) -> u16 {
    node.cli(&["CLUSTER", "KEYSLOT", key])
        .unwrap()
        .parse()
        .unwrap()
}

/// The node serving `slot` as a master now.
fn master_of(nodes: &[RedisServer], slot: u16) -> usize {
    let table = nodes
        .iter()
        .find_map(|n| n.cli(&["CLUSTER", "NODES"]).ok())
        .expect("a node answers");
    for line in table.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if !words.get(2).is_some_and(|f| f.contains("master")) || words.get(7) != Some(&"connected")
        {
            continue;
        }
        let port: u16 = words[1].split(['@', ':']).nth(1).unwrap().parse().unwrap();
        let serves = words[8..].iter().any(|range| {
            let mut ends = range
                .split('-')
                .map(|v| v.parse::<u16>().unwrap_or(u16::MAX));
            let start = ends.next().unwrap_or(u16::MAX);
            let end = ends.next().unwrap_or(start);
            (start..=end).contains(&slot)
        });
        if serves {
            return nodes.iter().position(|n| n.port() == port).unwrap();
        }
    }
    panic!("no master serves slot {slot}: {table}");
}

/// Every script's keys, for names plain and odd, map to one slot.
fn scripts_keep_to_one_slot(nodes: &[RedisServer]) {
    for name in ["orders", "a.b-c", "x}y", "{z", "with space", "ünï"] {
        let groups: [Vec<String>; 4] = [
            vec![format!("{{rl:{name}}}")],
            ["votes", "open", "trial"]
                .map(|p| format!("{{cb:{name}}}:{p}"))
                .to_vec(),
            vec![format!("{{rb:{name}}}")],
            vec![
                "{rs}:instances".into(),
                "{rs}:health".into(),
                format!("{{rs}}:report:{name}"),
            ],
        ];
        for keys in groups {
            let slots: Vec<u16> = keys.iter().map(|k| slot(&nodes[0], k)).collect();
            assert!(
                slots.windows(2).all(|w| w[0] == w[1]),
                "{keys:?} map to {slots:?}"
            );
        }
    }
}

/// (a)-(d) of the single-server tests, on the Redis Cluster.
fn scenarios_a_to_d() {
    let nodes = create_cluster().unwrap();
    scripts_keep_to_one_slot(&nodes);
    let spec = spec(&nodes);
    println!("  (a) a cluster rate limit across three processes");
    common::a_cluster_limit_holds_across_instances(&spec);
    println!("  (b) quorum 1");
    common::b_quorum_one_opening_reaches_everyone(&spec);
    println!("  (c) quorum 2");
    common::c_quorum_two_needs_two_instances(&spec);
    println!("  (d) one trial across the cluster");
    common::d_half_open_admits_one_trial_across_the_cluster(&spec);
}

/// The master holding an open breaker's keys is killed under load: calls complete
/// within the bound, its replica takes over, the opening survives, and the instances
/// decide through Redis again.
fn master_killed() {
    let mut nodes = create_cluster().unwrap();
    let spec = spec(&nodes);
    let mut all = ["a", "b", "c"].map(|role| Instance::spawn(role, &spec, OP_TIMEOUT_MS));
    assert!(all[0].ask("fail t.q2 3", 2 * SEC).starts_with("state open"));
    assert!(all[1].ask("fail t.q2 3", 2 * SEC).starts_with("state open"));
    assert!(all[2]
        .ask("wait t.q2 open 2000", 3 * SEC)
        .starts_with("seen"));
    std::thread::sleep(Duration::from_millis(200));
    let q2_slot = slot(&nodes[0], "{cb:t.q2}:open");
    let victim = master_of(&nodes, q2_slot);
    let load_victim = master_of(&nodes, slot(&nodes[0], "{rl:t.load}"));
    println!(
        "    killing the master on port {} ({{cb:t.q2}}; {{rl:t.load}} is on port {})",
        nodes[victim].port(),
        nodes[load_victim].port()
    );
    for i in all.iter_mut() {
        i.send("load 2500");
    }
    std::thread::sleep(Duration::from_millis(300));
    nodes[victim].kill();
    let killed = Instant::now();
    let answers: Vec<String> = all.iter().map(|i| i.recv(10 * SEC)).collect();
    println!("    load: {answers:?}");
    let bound_us = u128::from(OP_TIMEOUT_MS) * 1000 + 40_000;
    for a in &answers {
        let calls = field(a, "calls");
        assert!(calls > 100, "too few calls completed: {a}");
        assert_eq!(
            field(a, "ok") + field(a, "refused"),
            calls,
            "a call went missing: {a}"
        );
        assert_eq!(field(a, "decisions"), calls, "{a}");
        assert!(
            field(a, "max_us") <= bound_us,
            "a call waited past the bound: {a}"
        );
    }
    // The replica took the slots (a node is failed after 1 s) and holds the opening.
    let survivor = (0..nodes.len()).find(|i| *i != victim).unwrap();
    let deadline = Instant::now() + 20 * SEC;
    let promoted = loop {
        let info = nodes[survivor]
            .cli(&["CLUSTER", "INFO"])
            .unwrap_or_default();
        if info.contains("cluster_state:ok") {
            let owner = master_of(&nodes, q2_slot);
            if owner != victim {
                break owner;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no replica took the killed master's slots"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    println!(
        "    the replica on port {} serves the slots {:?} after the kill",
        nodes[promoted].port(),
        killed.elapsed()
    );
    let left: i64 = nodes[promoted]
        .cli(&["PTTL", "{cb:t.q2}:open"])
        .unwrap()
        .parse()
        .unwrap();
    assert!(left > 0, "the opening was lost with the master");
    // A new instance learns of the opening from the cluster.
    let mut d = Instance::spawn("d", &spec, OP_TIMEOUT_MS);
    let seen = d.ask("wait t.q2 open 2000", 3 * SEC);
    assert!(
        seen.starts_with("seen"),
        "a new instance never saw the opening: {seen}"
    );
    // Everyone decides through Redis again.
    for i in all.iter_mut() {
        let up = i.ask("connected 10000", 11 * SEC);
        assert!(up.starts_with("connected"), "{}: {up}", i.role);
        let deadline = Instant::now() + 5 * SEC;
        loop {
            let admitted = i.ask("admit1 t.after 1000 1000", SEC);
            if admitted.contains("cluster 1 local 0") {
                break;
            }
            assert!(Instant::now() < deadline, "{}: {admitted}", i.role);
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn main() {
    main_with(&[
        ("scenarios_a_to_d", scenarios_a_to_d),
        ("master_killed", master_killed),
    ]);
}
