//! The operator's controls across a fleet: two processes connected to one real
//! `redis-server` (started on a free 127.0.0.1 port), each serving the admin router;
//! `POST /breakers/{name}/open` to one opens the breaker on both, and a `close` sent to
//! the other closes it on both.
//!
//! The test binary is its own instance: it re-runs itself as two children
//! (`ADMIN_CLUSTER_REDIS` names the Redis URL), each printing its admin port and exiting
//! when its stdin closes. Every wait is bounded.
//! `cargo test -p resilience-tests --features admin,redis --test admin_cluster`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use resilience::admin::{router, AdminConfig};
use resilience::{circuit_breaker, cluster, CircuitOpen, MarcusError};
use resilience_tests::redis_server::RedisServer;

const TOKEN: &str = "fleet-token";
const VAR: &str = "ADMIN_CLUSTER_REDIS";
/// The longest one wait lasts (the API's bound for a remote transition is 100 ms).
const WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = integration)]
enum E {
    #[error(transparent)]
    Open(#[from] CircuitOpen),
}

/// A breaker of local scope: the operator's action reaches every instance whatever the
/// breaker's scope.
#[circuit_breaker(name = "fleet.kanban")]
fn kanban() -> Result<(), E> {
    Ok(())
}

fn main() {
    match std::env::var(VAR) {
        Ok(url) => child(&url),
        Err(_) => parent(),
    }
}

/// One instance: connected, serving the admin router on a free port, until stdin closes.
fn child(url: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        cluster::connect(url).await.expect("connects to Redis");
        kanban().expect("closed");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let app = axum::Router::new().nest(
            "/admin",
            router(AdminConfig {
                token: Some(TOKEN.into()),
                ..Default::default()
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        println!("@@ port {port}");
        // Exits when the parent closes stdin (or dies).
        tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new()))
            .await
            .ok();
    });
}

/// A child instance, stopped when dropped.
struct Instance {
    child: Child,
    stdin: Option<ChildStdin>,
    port: u16,
}

impl Instance {
    fn spawn(url: &str) -> Instance {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(VAR, url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the test binary runs as an instance");
        let stdin = child.stdin.take();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let port = loop {
            let line = lines
                .next()
                .expect("the instance prints its port")
                .expect("a line");
            if let Some(port) = line.strip_prefix("@@ port ") {
                break port.parse().unwrap();
            }
        };
        Instance { child, stdin, port }
    }

    /// One HTTP/1.1 request to the instance's admin router: the status and the body.
    fn request(&self, method: &str, path: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        write!(
            stream,
            "{method} /admin{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\
             Authorization: Bearer {TOKEN}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let status = answer[9..12].parse().unwrap();
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    }

    /// The breaker's state in the instance's `/health`.
    fn state(&self) -> String {
        let (status, body) = self.request("GET", "/health");
        assert_eq!(status, 200, "{body}");
        let health: serde_json::Value = serde_json::from_str(&body).expect("JSON health");
        health["breakers"]
            .as_array()
            .and_then(|all| all.iter().find(|b| b["name"] == "fleet.kanban"))
            .and_then(|b| b["state"].as_str())
            .unwrap_or("missing")
            .to_owned()
    }

    /// Waits (at most [`WAIT`]) for the breaker to be `state` here.
    fn until(&self, state: &str) {
        let started = Instant::now();
        loop {
            let shown = self.state();
            if shown == state {
                return;
            }
            assert!(
                started.elapsed() < WAIT,
                "the instance on port {} shows {shown}, not {state}, after {WAIT:?}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(2) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn parent() {
    let redis = match RedisServer::start() {
        Ok(redis) => redis,
        Err(e) => panic!("admin_cluster needs `redis-server` on the PATH: {e}"),
    };
    let a = Instance::spawn(&redis.url());
    let b = Instance::spawn(&redis.url());
    a.until("closed");
    b.until("closed");

    let (status, body) = a.request("POST", "/breakers/fleet.kanban/open");
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["published"], true, "{answer}");
    a.until("forced_open");
    b.until("forced_open");
    println!("admin_cluster: an open sent to one instance opened the breaker on both");

    let (status, body) = b.request("POST", "/breakers/fleet.kanban/close");
    assert_eq!(status, 200, "{body}");
    b.until("closed");
    a.until("closed");
    println!("admin_cluster: a close sent to the other closed it on both");
    drop((a, b));
    drop(redis);
    println!("admin_cluster: ok");
}
