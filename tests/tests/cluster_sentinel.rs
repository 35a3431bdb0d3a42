//! `Topology::Sentinel`: a master, a replica and three `redis-sentinel`s on free
//! 127.0.0.1 ports. Three instances run under load while the master is killed: calls
//! keep completing on local decisions within the bound of scenario (e); the instances
//! follow the new master within the sentinels' failover time plus one heartbeat; pub/sub
//! and the scripts run there again, and an opening made before the kill is still in force
//! (nothing lost beyond what Redis lost).
//!
//! `cargo test -p resilience-tests --features redis --test cluster_sentinel` (needs
//! `redis-server`, `redis-sentinel` and `redis-cli` on the PATH).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use resilience_tests::redis_server::RedisServer;

// Each cluster target uses part of what the children and scenarios share.
#[allow(dead_code)]
mod cluster_common;

use cluster_common::{field, main_with, Instance, OP_TIMEOUT_MS, SEC};

const MASTER: &str = "mymaster";

fn unix_us() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_micros()
}

/// The master's port as `sentinel` names it.
fn named_master(sentinel: &RedisServer) -> Option<u16> {
    let addr = sentinel
        .cli(&["SENTINEL", "get-master-addr-by-name", MASTER])
        .ok()?;
    addr.lines().nth(1)?.trim().parse().ok()
}

fn master_killed_under_load() {
    // Diskless replication: no fork and no file for a full sync, so the replica is in
    // sync at once on a busy machine.
    let diskless = [
        "--repl-diskless-sync",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
    ];
    let mut master = RedisServer::start_with(&diskless).unwrap();
    let master_port = master.port().to_string();
    let replica = RedisServer::start_with(
        &[&diskless[..], &["--replicaof", "127.0.0.1", &master_port]].concat(),
    )
    .unwrap();
    let sentinels: Vec<RedisServer> = (0..3)
        .map(|_| RedisServer::sentinel(MASTER, master.port()).unwrap())
        .collect();
    // The sentinels must know the replica and each other before a failover can happen.
    let deadline = Instant::now() + 30 * SEC;
    loop {
        let ready = sentinels.iter().all(|s| {
            let replicas = s.cli(&["SENTINEL", "replicas", MASTER]).unwrap_or_default();
            let peers = s
                .cli(&["SENTINEL", "sentinels", MASTER])
                .unwrap_or_default();
            replicas.contains(&replica.port().to_string())
                && peers.matches("runid").count() >= 2
                && replica
                    .cli(&["INFO", "replication"])
                    .is_ok_and(|info| info.contains("master_link_status:up"))
        });
        if ready {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the sentinels never saw the replica and each other"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let urls: Vec<String> = sentinels.iter().map(RedisServer::url).collect();
    let spec = format!("sentinel={MASTER}@{}", urls.join(","));
    let mut all = ["a", "b", "c"].map(|role| Instance::spawn(role, &spec, OP_TIMEOUT_MS));
    let status = all[0].ask("status", SEC);
    assert!(
        status.contains(&format!("master_at_127.0.0.1:{master_port}")),
        "{status}"
    );
    // An opening before the kill (quorum 2: a and b), replicated before it.
    assert!(all[0].ask("fail t.q2 3", 2 * SEC).starts_with("state open"));
    assert!(all[1].ask("fail t.q2 3", 2 * SEC).starts_with("state open"));
    assert!(all[2]
        .ask("wait t.q2 open 2000", 3 * SEC)
        .starts_with("seen"));
    std::thread::sleep(Duration::from_millis(200));
    println!(
        "    before the kill: master PTTL {:?}, replica PTTL {:?}",
        master.cli(&["PTTL", "{cb:t.q2}:open"]),
        replica.cli(&["PTTL", "{cb:t.q2}:open"])
    );
    for i in all.iter_mut() {
        i.send("load 1500");
    }
    std::thread::sleep(Duration::from_millis(300));
    master.kill();
    let killed = unix_us();
    // The parent watches the sentinels name the replica (every 20 ms, at most 20 s).
    let deadline = Instant::now() + 20 * SEC;
    let switched = loop {
        if named_master(&sentinels[0]) == Some(replica.port()) {
            break unix_us();
        }
        assert!(Instant::now() < deadline, "the sentinels never failed over");
        std::thread::sleep(Duration::from_millis(20));
    };
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
            field(a, "local") > 0,
            "no local decisions while the master was gone: {a}"
        );
        assert!(
            field(a, "max_us") <= bound_us,
            "a call waited past the bound: {a}"
        );
    }
    let failover_ms = (switched - killed) / 1000;
    println!("    the sentinels named the new master {failover_ms} ms after the kill");
    for i in all.iter_mut() {
        let deadline = Instant::now() + 5 * SEC;
        let followed = loop {
            let answer = i.ask("followed", SEC);
            if field(&answer, "followed") > 0 {
                break answer;
            }
            assert!(
                Instant::now() < deadline,
                "{} never followed: {answer}",
                i.role
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let after = field(&followed, "followed").saturating_sub(switched) / 1000;
        println!(
            "    {} followed {} ms after the kill, {after} ms after the sentinels named the new master",
            i.role,
            (field(&followed, "followed") - killed) / 1000
        );
        assert!(
            followed.contains(&format!("master_at_127.0.0.1:{}", replica.port())),
            "{followed}"
        );
        // One heartbeat (200 ms), and slack for a loaded machine.
        assert!(after <= 400, "{} took {after} ms past the failover", i.role);
    }
    // The opening made before the kill is still in force on the new master.
    println!(
        "    keys on the new master: {:?}",
        replica.cli(&["KEYS", "*"])
    );
    let left: i64 = replica
        .cli(&["PTTL", "{cb:t.q2}:open"])
        .unwrap()
        .parse()
        .unwrap();
    assert!(left > 0, "the opening was lost in the failover");
    // Pub/sub runs on the new master (subscribed again within a heartbeat): b's opening
    // reaches a and c at once.
    std::thread::sleep(Duration::from_millis(300));
    let [a, b, c] = &mut all;
    a.send("wait t.q1 open 2000");
    c.send("wait t.q1 open 2000");
    std::thread::sleep(Duration::from_millis(30));
    let opened = b.ask("fail t.q1 3", 2 * SEC);
    for (who, i) in [("a", a), ("c", c)] {
        let seen = i.recv(3 * SEC);
        assert!(seen.starts_with("seen"), "{who}: {seen}");
        let lag = field(&seen, "seen").saturating_sub(field(&opened, "at"));
        println!(
            "    on the new master, {who} saw b's opening {} ms after it",
            lag / 1000
        );
        assert!(lag < 100_000, "{who} took {lag} us");
    }
    // The scripts run there: an admission is the cluster's.
    let admitted = b.ask("admit1 t.after 10 1000", SEC);
    assert!(
        admitted.starts_with("admitted cluster 1 local 0"),
        "{admitted}"
    );
}

fn main() {
    main_with(&[("master_killed_under_load", master_killed_under_load)]);
}
