//! Redis with a password (`--requirepass`) and with an ACL user: the right credentials
//! admit through Redis, wrong ones are an `Err`, and no password is ever shown: not in
//! an error's `Display` or `Debug`, a log line (captured here and in each child), the
//! health report, `cluster::redis()`, a config file's error or `Config`'s `Debug`.
//!
//! `cargo test -p resilience-tests --features redis,config --test cluster_auth`.

use resilience::cluster::{self, ClusterError};
use resilience::registry;
use resilience_tests::capture::Capture;
use resilience_tests::redis_server::RedisServer;

// Each cluster target uses part of what the children and scenarios share.
#[allow(dead_code)]
mod cluster_common;

use cluster_common::{main_with, Instance, OP_TIMEOUT_MS, SEC};

const PASSWORD: &str = "pw-Topsecret-1";
const ACL_PASSWORD: &str = "pw-AclSecret-2";
const WRONG: &str = "pw-Wrong-3";

fn password_server() -> RedisServer {
    RedisServer::start_with(&["--requirepass", PASSWORD]).unwrap()
}

fn acl_server() -> RedisServer {
    // Each word its own argument: redis-server joins them into one `user` line.
    let password = format!(">{ACL_PASSWORD}");
    RedisServer::start_with(&[
        "--user", "app", "on", &password, "~*", "&*", "+@all", "--user", "default", "off",
    ])
    .unwrap()
}

/// Fails the test when `text` shows any of the passwords.
fn no_secret(what: &str, text: &str) {
    for secret in [PASSWORD, ACL_PASSWORD, WRONG] {
        assert!(!text.contains(secret), "{what} shows a password: {text}");
    }
}

/// A child instance on `url`: it admits through Redis; its answers and logs show no
/// password.
fn child_admits(role: &str, url: &str) {
    let mut i = Instance::spawn(role, url, OP_TIMEOUT_MS);
    let admitted = i.ask("admit1 t.auth 100 1000", SEC);
    println!("    {role}: {admitted}");
    assert!(
        admitted.starts_with("admitted cluster 1 local 0"),
        "{admitted}"
    );
    assert!(admitted.contains("connected 1"), "{admitted}");
    no_secret("status", &admitted);
    let summaries = i.ask("summaries", SEC);
    assert!(summaries.starts_with("summaries"), "{summaries}");
    no_secret("health", &summaries);
    let logs = i.logs().join("\n");
    assert!(logs.contains("connected to the cluster"), "{logs}");
    no_secret("the child's logs", &logs);
}

/// `redis://:password@host`: the right password admits; a wrong one, none, an
/// unreachable server and a bad URL are errors without the password.
fn password_only() {
    let server = password_server();
    let port = server.port();
    // Every event of this process (the parent), at every level, for `no_secret`.
    let captured = Capture::new();
    let _guard = tracing::subscriber::set_default(captured.subscriber());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let cases: [(&str, String); 5] = [
            (
                "a wrong password",
                format!("redis://:{WRONG}@127.0.0.1:{port}/"),
            ),
            ("no password", format!("redis://127.0.0.1:{port}/")),
            ("unreachable", format!("redis://:{PASSWORD}@127.0.0.1:1/")),
            (
                "a bad port",
                format!("redis://:{PASSWORD}@127.0.0.1:notaport/"),
            ),
            (
                "a bad scheme",
                format!("http://:{PASSWORD}@127.0.0.1:{port}/"),
            ),
        ];
        for (what, url) in cases {
            let err = cluster::connect(&url).await.unwrap_err();
            let shown = format!("{err} / {err:?}");
            println!("    {what}: {err}");
            no_secret(what, &shown);
            assert!(
                matches!(
                    err,
                    ClusterError::Unreachable { .. } | ClusterError::InvalidUrl { .. }
                ),
                "{what}: {err:?}"
            );
            if what != "no password" {
                assert!(shown.contains(":***@127.0.0.1"), "{what}: {shown}");
            }
        }
        assert!(!cluster::is_connected());
    });
    no_secret("this process's logs", &captured.text());
    child_admits("pw", &format!("redis://:{PASSWORD}@127.0.0.1:{port}/"));
}

/// `redis://user:password@host` with an ACL user (the default user off): the right one
/// admits (in a child, and in this process, whose health and logs are read); a wrong
/// password is an `Err` naming the user, not the password.
fn acl_user() {
    let server = acl_server();
    let port = server.port();
    // Every event of this process (the parent), at every level, for `no_secret`.
    let captured = Capture::new();
    let _guard = tracing::subscriber::set_default(captured.subscriber());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let err = cluster::connect(&format!("redis://app:{WRONG}@127.0.0.1:{port}/"))
            .await
            .unwrap_err();
        println!("    a wrong ACL password: {err}");
        no_secret("a wrong ACL password", &format!("{err} {err:?}"));
        assert!(
            err.to_string().contains("redis://app:***@127.0.0.1"),
            "{err}"
        );
        let me = cluster::connect(&format!("redis://app:{ACL_PASSWORD}@127.0.0.1:{port}/"))
            .await
            .unwrap();
        assert!(me.joined);
        let limiter = cluster::ClusterLimiter::new(
            "t.acl",
            cluster::ClusterLimit::new(10, std::time::Duration::from_secs(1)),
        )
        .unwrap();
        assert!(limiter.admit().await.is_admitted());
        assert_eq!(limiter.stats().cluster_admitted, 1);
        let health = serde_json::to_string(&registry().health()).unwrap();
        assert!(health.contains("\"connected\":true"), "{health}");
        no_secret("registry().health()", &health);
        let all = cluster::health().await.unwrap();
        no_secret("cluster::health()", &serde_json::to_string(&all).unwrap());
        let shown = cluster::redis().unwrap();
        assert_eq!(shown, format!("redis://app:***@127.0.0.1:{port}/"));
    });
    let logs = captured.text();
    assert!(logs.contains("connected to the cluster"), "{logs}");
    assert!(logs.contains("redis://app:***@127.0.0.1"), "{logs}");
    no_secret("this process's logs", &logs);
    child_admits(
        "acl",
        &format!("redis://app:{ACL_PASSWORD}@127.0.0.1:{port}/"),
    );
}

/// A `[cluster]` table with a password: neither the file's error for a bad URL nor
/// `Config`'s `Debug` shows it.
fn config_file() {
    use resilience::config::Config;
    let bad = format!("[cluster]\nurl = \"redis://:{PASSWORD}@127.0.0.1:notaport\"\n");
    let err = Config::parse(&bad).unwrap_err();
    println!("    a bad [cluster] url: {err}");
    no_secret("the config file's error", &format!("{err} {err:?}"));
    assert!(
        err.to_string().contains("redis://:***@127.0.0.1:notaport"),
        "{err}"
    );
    let good = format!("[cluster]\nurl = \"redis://app:{PASSWORD}@127.0.0.1:6379\"\n");
    let config = Config::parse(&good).unwrap();
    no_secret("Config's Debug", &format!("{config:?}"));
    assert_eq!(
        config.cluster().map(|c| c.url.clone()),
        Some(format!("redis://app:{PASSWORD}@127.0.0.1:6379")),
        "the URL itself is kept whole, for connecting"
    );
    let both = format!(
        "[cluster]\nurl = \"redis://:{PASSWORD}@h:1\"\nnodes = [\"redis://:{PASSWORD}@h:2\"]\n"
    );
    let err = Config::parse(&both).unwrap_err();
    println!("    url and nodes: {err}");
    no_secret("url and nodes", &format!("{err} {err:?}"));
}

fn main() {
    main_with(&[
        ("config_file", config_file),
        ("password_only", password_only),
        ("acl_user", acl_user),
    ]);
}
