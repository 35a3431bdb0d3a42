//! What the cluster layer costs, against a local `redis-server`, in one run:
//! `cargo bench -p resilience --features redis --bench cluster`.
//!
//! - `closed_breaker`: a call through a closed breaker, `local` vs `cluster` scope (the
//!   cluster one connected): the same code runs, since only a transition reaches Redis.
//! - `exhausted_refusal`: a refusal while the cluster limit is known to be exhausted,
//!   ours (local, no round trip) vs the same script per call without the fast path.
//! - `admission`: a cluster admission (one `EVALSHA` through our limiter) vs a bare
//!   `EVALSHA` of the same script on a connection of its own, one caller and three
//!   concurrent callers; the round trip is the limit.
//! - `admission_instances`: one and three instances, each a process of its own (this
//!   binary, re-run) with its own connection and its own `ClusterLimiter` of one shared
//!   limit; an iteration is one admission by every instance at once.
//! - `admission_topology`: the same on one server beside a Redis Cluster of three masters
//!   (`Topology::Cluster`, started by the bench with `redis-cli --cluster create`): one
//!   process, three sharing one limit (one key, so one master), and three with a limit
//!   each (three keys, spread over the masters).
//!
//! Uses `REDIS_URL` if set, else starts `redis-server` on a free 127.0.0.1 port.

use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use redis::aio::ConnectionManager;
use resilience::cluster::{self, ClusterConfig, ClusterLimit, ClusterLimiter, Topology, GCRA_LUA};
use resilience::{circuit_breaker, CircuitOpen};

#[derive(Debug, thiserror::Error)]
enum BenchError {
    #[error(transparent)]
    Open(#[from] CircuitOpen),
}

#[inline(never)]
fn work(x: u64) -> Result<u64, BenchError> {
    Ok(x.wrapping_mul(3).wrapping_add(1))
}

#[circuit_breaker(name = "bench.local")]
fn local(x: u64) -> Result<u64, BenchError> {
    work(x)
}

#[circuit_breaker(name = "bench.cluster", scope = cluster)]
fn clustered(x: u64) -> Result<u64, BenchError> {
    work(x)
}

struct Setup {
    rt: tokio::runtime::Runtime,
    url: String,
}

static SERVER: OnceLock<std::sync::Mutex<Option<Child>>> = OnceLock::new();

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let url = std::env::var("REDIS_URL").unwrap_or_else(|_| start_server());
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        // A generous bound: on a loaded machine a 50 ms one may expire now and then, and
        // the limiter would then decide locally, which is not what this measures.
        let config = ClusterConfig {
            op_timeout: Duration::from_secs(1),
            ..Default::default()
        };
        rt.block_on(cluster::connect_with(&url, config))
            .expect("the bench's Redis");
        Setup { rt, url }
    })
}

fn start_server() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server on the PATH (Debian: apt-get install -y redis-server)");
    *SERVER.get_or_init(Default::default).lock().unwrap() = Some(child);
    for _ in 0..500 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    format!("redis://127.0.0.1:{port}/")
}

fn closed_breaker(c: &mut Criterion) {
    let _ = setup();
    let mut g = c.benchmark_group("closed_breaker");
    g.bench_function("local", |b| b.iter(|| local(black_box(7))));
    g.bench_function("cluster", |b| b.iter(|| clustered(black_box(7))));
    g.finish();
}

fn bare_connection(s: &Setup) -> ConnectionManager {
    let client = redis::Client::open(s.url.as_str()).expect("url");
    s.rt.block_on(client.get_connection_manager())
        .expect("a connection")
}

fn exhausted_refusal(c: &mut Criterion) {
    let s = setup();
    // One call an hour: exhausted after the first.
    let limit = ClusterLimit {
        limit: 1,
        per: Duration::from_secs(3600),
        burst: 1,
        expected_instances: 1,
    };
    let ours = ClusterLimiter::new("bench.exhausted", limit).unwrap();
    s.rt.block_on(async {
        for _ in 0..3 {
            let _ = ours.admit().await;
        }
    });
    assert!(ours.exhausted().is_some(), "the limit should be exhausted");
    let script = redis::Script::new(GCRA_LUA);
    let conn = bare_connection(s);
    let interval_us = 3_600_000_000u64;
    let mut g = c.benchmark_group("exhausted_refusal");
    g.bench_function("ours_exhausted_check", |b| {
        b.iter(|| black_box(ours.exhausted()))
    });
    g.bench_function("ours_admit", |b| {
        b.to_async(&s.rt)
            .iter(|| async { black_box(ours.admit().await) })
    });
    g.bench_function("script_per_call", |b| {
        b.to_async(&s.rt).iter(|| {
            let mut conn = conn.clone();
            let script = &script;
            async move {
                let r: (i64, i64) = script
                    .key("{rl:bench.exhausted}")
                    .arg(interval_us)
                    .arg(interval_us)
                    .invoke_async(&mut conn)
                    .await
                    .unwrap();
                black_box(r)
            }
        })
    });
    g.finish();
}

fn admission(c: &mut Criterion) {
    let s = setup();
    // A limit never reached: every admission is a round trip that admits.
    let wide = ClusterLimit {
        limit: 1_000_000,
        per: Duration::from_secs(1),
        burst: 1_000_000,
        expected_instances: 1,
    };
    let ours = ClusterLimiter::new("bench.wide", wide).unwrap();
    let script = redis::Script::new(GCRA_LUA);
    let conn = bare_connection(s);
    let bare = |conn: &ConnectionManager| {
        let mut conn = conn.clone();
        let script = &script;
        async move {
            let r: (i64, i64) = script
                .key("{rl:bench.bare}")
                .arg(1u64)
                .arg(1_000_000u64)
                .invoke_async(&mut conn)
                .await
                .unwrap();
            r
        }
    };
    let mut g = c.benchmark_group("admission");
    g.bench_function("ours_one_caller", |b| {
        b.to_async(&s.rt)
            .iter(|| async { assert!(ours.admit().await.is_admitted()) })
    });
    g.bench_function("bare_evalsha_one_caller", |b| {
        b.to_async(&s.rt)
            .iter(|| async { black_box(bare(&conn).await) })
    });
    g.bench_function("ours_three_callers", |b| {
        b.to_async(&s.rt).iter(|| async {
            let (x, y, z) = tokio::join!(ours.admit(), ours.admit(), ours.admit());
            assert!(x.is_admitted() && y.is_admitted() && z.is_admitted());
        })
    });
    g.bench_function("bare_evalsha_three_callers", |b| {
        b.to_async(&s.rt)
            .iter(|| async { black_box(tokio::join!(bare(&conn), bare(&conn), bare(&conn))) })
    });
    g.finish();
    let stats = ours.stats();
    println!("admission: our limiter's decisions: {stats:?}");
    assert_eq!(
        stats.local_admitted, 0,
        "Redis went unanswered during the run: the figures mix in local decisions"
    );
}

/// Names the Redis an instance process connects to; set only on the re-run binary.
const INSTANCE_URL: &str = "RESILIENCE_BENCH_INSTANCE_URL";
const INSTANCE_LIMIT: &str = "RESILIENCE_BENCH_INSTANCE_LIMIT";

/// A limit the instances share and never reach: every admission is a round trip that
/// admits.
fn shared_limit() -> ClusterLimit {
    ClusterLimit {
        limit: 1_000_000,
        per: Duration::from_secs(1),
        burst: 1_000_000,
        expected_instances: 3,
    }
}

/// The instance process: connects (`url` a URL, or `cluster=URL,URL,..`), then for each
/// `admit N` line admits N calls one after another and answers `done`, until its stdin
/// closes. Its limit is `bench.instances`, or `INSTANCE_LIMIT`.
fn instance(url: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let config = ClusterConfig {
        op_timeout: Duration::from_secs(1),
        ..Default::default()
    };
    let topology = match url.strip_prefix("cluster=") {
        Some(nodes) => Topology::Cluster(nodes.split(',').map(str::to_owned).collect()),
        None => Topology::Single(url.to_owned()),
    };
    rt.block_on(cluster::connect_to(topology, config))
        .expect("the bench's Redis");
    let name = std::env::var(INSTANCE_LIMIT).unwrap_or_else(|_| "bench.instances".into());
    let limiter = ClusterLimiter::new(name, shared_limit()).expect("a valid limit");
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready")
        .and_then(|()| out.flush())
        .expect("stdout");
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let Some(n) = line
            .strip_prefix("admit ")
            .and_then(|n| n.parse::<u64>().ok())
        else {
            break;
        };
        rt.block_on(async {
            for _ in 0..n {
                assert!(limiter.admit().await.is_admitted());
            }
        });
        let local = limiter.stats().local_admitted;
        writeln!(out, "done {local}")
            .and_then(|()| out.flush())
            .expect("stdout");
    }
}

/// One instance process, driven through its stdin and stdout.
struct Instance {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Instance {
    fn spawn(url: &str) -> Instance {
        Instance::spawn_with_limit(url, "bench.instances")
    }

    fn spawn_with_limit(url: &str, limit: &str) -> Instance {
        let mut child = Command::new(std::env::current_exe().expect("the bench binary"))
            .env(INSTANCE_URL, url)
            .env(INSTANCE_LIMIT, limit)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("an instance process");
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut ready = String::new();
        stdout.read_line(&mut ready).expect("the instance's answer");
        assert_eq!(ready.trim(), "ready", "the instance did not start");
        Instance {
            child,
            stdin,
            stdout,
        }
    }

    fn start(&mut self, n: u64) {
        writeln!(self.stdin, "admit {n}")
            .and_then(|()| self.stdin.flush())
            .expect("the instance's stdin");
    }

    /// Waits for the admissions started; the admissions decided locally so far.
    fn finish(&mut self) -> u64 {
        let mut done = String::new();
        self.stdout
            .read_line(&mut done)
            .expect("the instance's answer");
        done.trim()
            .strip_prefix("done ")
            .and_then(|n| n.parse().ok())
            .expect("`done N`")
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // Killed, not asked: nothing of an instance needs to end cleanly.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn admission_instances(c: &mut Criterion) {
    let s = setup();
    let mut g = c.benchmark_group("admission_instances");
    for count in [1, 3] {
        let mut instances: Vec<Instance> = (0..count).map(|_| Instance::spawn(&s.url)).collect();
        let name = if count == 1 {
            "ours_one_process".to_owned()
        } else {
            format!("ours_{count}_processes")
        };
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let started = Instant::now();
                for i in &mut instances {
                    i.start(iters);
                }
                let local: u64 = instances.iter_mut().map(Instance::finish).sum();
                assert_eq!(
                    local, 0,
                    "Redis went unanswered: the figures mix in local decisions"
                );
                started.elapsed()
            })
        });
    }
    g.finish();
}

/// Three `redis-server`s in cluster mode made one Redis Cluster (three masters, no
/// replicas); the `cluster=URL,..` spec of it. Killed at the end with the other server.
fn start_redis_cluster() -> String {
    let mut ports = Vec::new();
    for _ in 0..3 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir =
            std::env::temp_dir().join(format!("resilience-bench-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a scratch folder");
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--cluster-enabled",
                "yes",
            ])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server on the PATH");
        NODES
            .get_or_init(Default::default)
            .lock()
            .unwrap()
            .push((child, dir));
        ports.push(port);
    }
    for port in &ports {
        for _ in 0..500 {
            if std::net::TcpStream::connect(("127.0.0.1", *port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let addrs: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let created = Command::new("redis-cli")
        .args(["--cluster", "create"])
        .args(&addrs)
        .args(["--cluster-replicas", "0", "--cluster-yes"])
        .stdout(Stdio::null())
        .status()
        .expect("redis-cli on the PATH (Debian: apt-get install -y redis-tools)");
    assert!(created.success(), "redis-cli --cluster create failed");
    for _ in 0..300 {
        let ok = ports.iter().all(|p| {
            Command::new("redis-cli")
                .args(["-p", &p.to_string(), "cluster", "info"])
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("cluster_state:ok"))
        });
        if ok {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let urls: Vec<String> = ports
        .iter()
        .map(|p| format!("redis://127.0.0.1:{p}/"))
        .collect();
    format!("cluster={}", urls.join(","))
}

static NODES: OnceLock<std::sync::Mutex<Vec<(Child, std::path::PathBuf)>>> = OnceLock::new();

fn admission_topology(c: &mut Criterion) {
    let s = setup();
    let redis_cluster = start_redis_cluster();
    let mut g = c.benchmark_group("admission_topology");
    let cases: [(&str, &str, [&str; 3], usize); 5] = [
        ("single_1_process", &s.url, ["bench.t"; 3], 1),
        ("single_3_processes", &s.url, ["bench.t"; 3], 3),
        ("cluster_1_process", &redis_cluster, ["bench.t"; 3], 1),
        (
            "cluster_3_processes_one_limit",
            &redis_cluster,
            ["bench.t"; 3],
            3,
        ),
        (
            "cluster_3_processes_a_limit_each",
            &redis_cluster,
            ["bench.a", "bench.b", "bench.c"],
            3,
        ),
    ];
    for (name, url, limits, count) in cases {
        let mut instances: Vec<Instance> = limits[..count]
            .iter()
            .map(|limit| Instance::spawn_with_limit(url, limit))
            .collect();
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let started = Instant::now();
                for i in &mut instances {
                    i.start(iters);
                }
                let local: u64 = instances.iter_mut().map(Instance::finish).sum();
                assert_eq!(
                    local, 0,
                    "Redis went unanswered: the figures mix in local decisions"
                );
                started.elapsed()
            })
        });
    }
    g.finish();
}

criterion_group!(
    cluster_benches,
    closed_breaker,
    exhausted_refusal,
    admission,
    admission_instances,
    admission_topology
);

fn main() {
    if let Ok(url) = std::env::var(INSTANCE_URL) {
        instance(&url);
        return;
    }
    cluster_benches();
    Criterion::default().configure_from_args().final_summary();
    if let Some(mut child) = SERVER.get().and_then(|s| s.lock().unwrap().take()) {
        let _ = child.kill();
        let _ = child.wait();
    }
    for (mut child, dir) in NODES
        .get()
        .map(|n| std::mem::take(&mut *n.lock().unwrap()))
        .unwrap_or_default()
    {
        let _ = child.kill();
        let _ = child.wait();
        let _ = std::fs::remove_dir_all(dir);
    }
}
