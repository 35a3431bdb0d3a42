//! A `redis-server` of a test's own: a free port on 127.0.0.1, no persistence, stopped
//! (killed) when dropped, with its scratch folder. Needs the `redis-server` binary on the
//! PATH (`apt-get install -y redis-server` on Debian); [`RedisServer::sentinel`] needs
//! `redis-sentinel`, [`RedisServer::cli`] and [`create_cluster`] need `redis-cli`
//! (`redis-sentinel`, `redis-tools`).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server` (or `redis-sentinel`) child process.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
    /// Arguments beyond the port, the bind address and no persistence.
    args: Vec<String>,
    /// Its scratch folder (cluster and sentinel files), removed on drop.
    dir: PathBuf,
    /// `redis-sentinel` instead of `redis-server`.
    sentinel: bool,
    /// The password `cli` authenticates with.
    password: Option<String>,
}

/// A free port on 127.0.0.1 (free when asked; the caller binds it soon after).
pub fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

impl RedisServer {
    /// Starts one on a free loopback port and waits (at most 5 s) until it answers PING.
    pub fn start() -> Result<RedisServer, String> {
        RedisServer::start_with(&[])
    }

    /// [`RedisServer::start`] with more arguments (`["--requirepass", "pw"]`,
    /// `["--cluster-enabled", "yes"]`, ..).
    pub fn start_with(args: &[&str]) -> Result<RedisServer, String> {
        let port = free_port()?;
        let dir =
            std::env::temp_dir().join(format!("resilience-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let password = args
            .windows(2)
            .find(|w| w[0] == "--requirepass")
            .map(|w| w[1].to_owned());
        let mut server = RedisServer {
            port,
            child: None,
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            dir,
            sentinel: false,
            password,
        };
        server.restart()?;
        Ok(server)
    }

    /// A `redis-sentinel` on a free port watching the master `name` at `master_port`
    /// (quorum 2, the master down after 1 s without an answer, a failover within 3 s).
    pub fn sentinel(name: &str, master_port: u16) -> Result<RedisServer, String> {
        let port = free_port()?;
        let dir =
            std::env::temp_dir().join(format!("resilience-sentinel-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let conf = dir.join("sentinel.conf");
        let text = format!(
            "port {port}\nbind 127.0.0.1\ndir {}\nsentinel monitor {name} 127.0.0.1 {master_port} 2\n\
             sentinel down-after-milliseconds {name} 1000\nsentinel failover-timeout {name} 3000\n\
             sentinel parallel-syncs {name} 1\n",
            dir.display()
        );
        std::fs::write(&conf, text).map_err(|e| format!("{}: {e}", conf.display()))?;
        let mut server = RedisServer {
            port,
            child: None,
            args: vec![conf.display().to_string()],
            dir,
            sentinel: true,
            password: None,
        };
        server.restart()?;
        Ok(server)
    }

    /// The server's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its scratch folder.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// The server's URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Sends `signal` (`STOP`, `CONT`, `KILL`) to the server.
    pub fn signal(&self, signal: &str) -> Result<(), String> {
        let pid = self.pid().ok_or("the server is not running")?;
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .map_err(|e| format!("kill -{signal}: {e}"))?;
        status
            .success()
            .then_some(())
            .ok_or(format!("kill -{signal} {pid} failed"))
    }

    /// Kills the server (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port, with the same arguments (empty:
    /// nothing was saved, except a cluster node's or a sentinel's own files).
    pub fn restart(&mut self) -> Result<(), String> {
        self.kill();
        let binary = if self.sentinel {
            "redis-sentinel"
        } else {
            "redis-server"
        };
        let mut command = Command::new(binary);
        if self.sentinel {
            command.args(&self.args);
        } else {
            command
                .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
                .args([
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--protected-mode",
                    "yes",
                ])
                .arg("--dir")
                .arg(&self.dir)
                .args(&self.args);
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!("cannot start {binary} ({e}); install it (Debian: apt-get install -y redis-server redis-sentinel redis-tools)")
            })?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if self.ping() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Err(format!(
            "{binary} on port {} did not answer within 5 s",
            self.port
        ))
    }

    /// True when the server answers PING within 200 ms (an answer asking for a
    /// password counts: the server is up).
    pub fn ping(&self) -> bool {
        let Ok(mut s) = TcpStream::connect_timeout(
            &([127, 0, 0, 1], self.port).into(),
            Duration::from_millis(200),
        ) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
        let mut buf = [0u8; 1];
        s.write_all(b"PING\r\n").is_ok()
            && s.read_exact(&mut buf).is_ok()
            && (buf[0] == b'+' || buf[0] == b'-')
    }

    /// Runs `redis-cli` against this server (authenticated when it has a password),
    /// at most 10 s; its output, or why it failed.
    pub fn cli(&self, args: &[&str]) -> Result<String, String> {
        cli(self.port, self.password.as_deref(), args)
    }
}

/// `redis-cli -p PORT ARGS..`, at most 10 s; its standard output, trimmed.
pub fn cli(port: u16, password: Option<&str>, args: &[&str]) -> Result<String, String> {
    let mut command = Command::new("redis-cli");
    command
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(pw) = password {
        command.env("REDISCLI_AUTH", pw);
    }
    let mut child = command.spawn().map_err(|e| {
        format!("cannot run redis-cli ({e}); install it (Debian: apt-get install -y redis-tools)")
    })?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("redis-cli {args:?} took over 10 s"));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!(
            "redis-cli {args:?}: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Six `redis-server`s in cluster mode made one Redis Cluster with
/// `redis-cli --cluster create` (three masters, one replica each; a node is failed
/// after 1 s without an answer), waited for (at most 30 s) until every node says
/// `cluster_state:ok` and every replica is in sync.
pub fn create_cluster() -> Result<Vec<RedisServer>, String> {
    let mut nodes = Vec::new();
    for _ in 0..6 {
        let node = RedisServer::start_with(&[
            "--cluster-enabled",
            "yes",
            "--cluster-node-timeout",
            "1000",
            // No fork and no file for a replica's full sync: in sync at once.
            "--repl-diskless-sync",
            "yes",
            "--repl-diskless-sync-delay",
            "0",
        ])?;
        nodes.push(node);
    }
    let addrs: Vec<String> = nodes
        .iter()
        .map(|n| format!("127.0.0.1:{}", n.port))
        .collect();
    let mut args = vec!["--cluster", "create"];
    args.extend(addrs.iter().map(String::as_str));
    args.extend(["--cluster-replicas", "1", "--cluster-yes"]);
    nodes[0].cli(&args)?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ok = nodes.iter().all(|n| {
            n.cli(&["cluster", "info"])
                .is_ok_and(|info| info.contains("cluster_state:ok"))
                && n.cli(&["info", "replication"]).is_ok_and(|info| {
                    info.contains("role:master") || info.contains("master_link_status:up")
                })
        });
        if ok {
            return Ok(nodes);
        }
        if Instant::now() >= deadline {
            return Err("the Redis Cluster did not reach cluster_state:ok within 30 s".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // A stopped server must be continued to die cleanly; SIGKILL works either way.
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
